import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callAll, callApi, FirecrackerApiError, faultOf, waitForApi } from '../../../../sandbox-core/backends/firecracker/api.ts';
import { microVmSetup, START_INSTANCE, vmState, type MicroVmInput } from '../../../../sandbox-core/backends/firecracker/config.ts';
import { startFakeApi, type FakeApi } from './fake-api.ts';

let dir: string;
let socket: string;
let api: FakeApi | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-fc-api-test-'));
  socket = join(dir, 'fc.sock');
});

afterEach(async () => {
  await api?.close();
  api = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const input = (kernelPath: string): MicroVmInput => ({
  kernelPath,
  initrdPath: '/images/initramfs.cpio',
  bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off',
  rootfsPath: '/images/root.squashfs',
  vcpuCount: 1,
  memSizeMib: 256,
  vsockPath: '/tmp/v.sock',
});

describe('the Firecracker API client', () => {
  it('sends the pre-boot configuration and InstanceStart in order, as JSON with a length and never chunked', async () => {
    api = await startFakeApi(socket);
    const kernel = join(dir, 'vmlinux');
    writeFileSync(kernel, '');
    await callAll(socket, [...microVmSetup(input(kernel)), START_INSTANCE]);
    expect(api.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'PUT /boot-source',
      'PUT /drives/rootfs',
      'PUT /machine-config',
      'PUT /vsock',
      'PUT /actions',
    ]);
    for (const request of api.requests) {
      expect(request.contentType).toBe('application/json');
      expect(Number(request.contentLength)).toBe(Buffer.byteLength(JSON.stringify(request.body)));
      expect(request.transferEncoding).toBeUndefined();
    }
    expect(api.requests.at(-1)!.body).toEqual({ action_type: 'InstanceStart' });
  });

  it('turns a 400 with a fault_message into an error naming the call and the fault, and stops there', async () => {
    api = await startFakeApi(socket);
    const error = await callAll(socket, [...microVmSetup(input('/nonexistent/vmlinux')), START_INSTANCE]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FirecrackerApiError);
    expect((error as FirecrackerApiError).message).toBe('firecracker PUT /boot-source: 400 Invalid kernel path: No such file or directory (os error 2)');
    expect((error as FirecrackerApiError).status).toBe(400);
    expect(api.requests).toHaveLength(1);
  });

  it('answers a JSON body as parsed data, and a 204 as undefined', async () => {
    api = await startFakeApi(socket);
    expect(await callApi(socket, { method: 'GET', path: '/' })).toMatchObject({ app_name: 'Firecracker' });
    expect(await callApi(socket, vmState('Paused'))).toBeUndefined();
    expect(api.requests.at(-1)).toMatchObject({ method: 'PATCH', path: '/vm', body: { state: 'Paused' } });
  });

  it('keeps the first line of an error body that is not JSON', async () => {
    api = await startFakeApi(socket, (request) => (request.path === '/vm' ? { status: 500, body: 'internal\ntrace' } : undefined));
    await expect(callApi(socket, vmState('Resumed'))).rejects.toThrow('firecracker PATCH /vm: 500 internal');
    expect(faultOf('')).toBe('no error message');
  });

  it('says which socket did not answer', async () => {
    await expect(callApi(socket, { method: 'GET', path: '/' })).rejects.toThrow(`firecracker GET / on ${socket}: connect ENOENT`);
  });

  it('waits for an API socket that appears after the process started', async () => {
    setTimeout(() => {
      void startFakeApi(socket).then((started) => (api = started));
    }, 50);
    await waitForApi(socket, 3000);
    expect(api!.requests[0]).toMatchObject({ method: 'GET', path: '/' });
  });

  it('gives up on an API that never appears, naming the last failure', async () => {
    await expect(waitForApi(socket, 100)).rejects.toThrow(new RegExp(`firecracker API on ${socket} did not answer within 100 ms \\(last: .*ENOENT`));
  });
});

describe('the Firecracker API client on a malformed success', () => {
  it('rejects a 200 whose body is not JSON instead of throwing out of the response handler', async () => {
    api = await startFakeApi(socket, () => ({ status: 200, body: 'not json' }));
    await expect(callApi(socket, { method: 'GET', path: '/' })).rejects.toThrow('firecracker GET /: 200 with a body that is not JSON: "not json"');
  });
});
