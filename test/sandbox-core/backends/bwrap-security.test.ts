/**
 * Escapes tried for real from inside a bwrap sandbox, each asserting that it
 * failed: host files outside the workspace, host processes, the network
 * (host loopback and the host's own non-loopback address), capabilities.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';

const bwrapReady = await bwrapBackend.available();

/** `sh -c script` inside; stdout and stderr as text. */
async function sh(sandbox: Sandbox, script: string) {
  const result = await sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 10_000 });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
}

/** A TCP connect attempt by Node inside the sandbox; prints "connected" or the error code. */
function tryConnect(sandbox: Sandbox, host: string, port: number) {
  const script = `require('net').connect(${port}, ${JSON.stringify(host)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); }); setTimeout(() => { console.log('TIMEOUT'); process.exit(1); }, 3000);`;
  return sandbox.exec({ argv: [process.execPath, '-e', script], timeoutMs: 10_000 });
}

function hostConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host).once('connect', () => (socket.destroy(), resolve(true))).once('error', () => resolve(false));
  });
}

function capEff(status: string): bigint {
  return BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)![1]}`);
}

describe.skipIf(!bwrapReady.ok)('bwrap sandbox escapes', () => {
  let sandbox: Sandbox;
  let hostDir: string;
  let server: Server;
  let port: number;
  let hostSleeper: ChildProcess;

  beforeAll(async () => {
    sandbox = await bwrapBackend.create();
    // /etc is visible inside (read-only); the host's /tmp and /var are not visible at all.
    hostDir = mkdtempSync(join('/etc', 'rigor-escape-'));
    writeFileSync(join(hostDir, 'victim.txt'), 'original\n');
    server = createServer((socket) => socket.on('error', () => {}).end('hello from the host\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as { port: number }).port;
    hostSleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  });
  afterAll(async () => {
    hostSleeper?.kill('SIGKILL');
    server?.close();
    rmSync(hostDir, { recursive: true, force: true });
    await sandbox?.destroy();
  });

  it('cannot write host files outside the workspace', async () => {
    const victim = join(hostDir, 'victim.txt');
    const overwrite = await sh(sandbox, `echo pwned > ${victim}`);
    expect(overwrite.code).not.toBe(0);
    expect(overwrite.err).toMatch(/Read-only file system|Permission denied/);
    expect(readFileSync(victim, 'utf8')).toBe('original\n');

    const etc = await sh(sandbox, 'echo pwned > /etc/rigor-escape-test');
    expect(etc.code).not.toBe(0);
    expect(existsSync('/etc/rigor-escape-test')).toBe(false);

    const rootDir = await sh(sandbox, 'mkdir /rigor-escape-test');
    expect(rootDir.code).not.toBe(0);
    expect(existsSync('/rigor-escape-test')).toBe(false);

    // Its /tmp is private: writing there succeeds but never reaches the host's.
    const hostTmpFile = join('/tmp', `rigor-escape-${process.pid}`); // the host's /tmp itself, not the tests' TMPDIR below it
    writeFileSync(hostTmpFile, 'original\n');
    try {
      expect((await sh(sandbox, `echo pwned > ${hostTmpFile} && cat ${hostTmpFile}`)).out).toBe('pwned\n');
      expect(readFileSync(hostTmpFile, 'utf8')).toBe('original\n');
    } finally {
      rmSync(hostTmpFile, { force: true });
    }
  });

  it('sees only its own processes', async () => {
    const pids = (await sh(sandbox, 'ls /proc | grep -E "^[0-9]+$"')).out.trim().split('\n').map(Number);
    // bwrap's pid 1, the agent, sh and ls: nothing of the host's hundreds.
    expect(pids.length).toBeLessThanOrEqual(5);
    expect(Math.max(...pids)).toBeLessThan(100);
    const host = hostSleeper.pid!;
    expect((await sh(sandbox, `test -e /proc/${host}`)).code).not.toBe(0);
    expect((await sh(sandbox, `kill -0 ${host}`)).code).not.toBe(0);
    expect((await sh(sandbox, `kill -9 ${host}`)).code).not.toBe(0);
    expect(hostSleeper.exitCode).toBeNull();
    expect(hostSleeper.signalCode).toBeNull();
  });

  it('cannot reach a server on the host loopback, which the host itself can', async () => {
    expect(await hostConnects('127.0.0.1', port)).toBe(true);
    const attempt = await tryConnect(sandbox, '127.0.0.1', port);
    expect(attempt.stdout.toString().trim()).toBe('ECONNREFUSED');
  });

  const external = Object.values(networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal);
  it.skipIf(!external)(`cannot reach the host's non-loopback address ${external?.address ?? '(none on this host)'}`, async () => {
    expect(await hostConnects(external!.address, port)).toBe(true);
    const attempt = await tryConnect(sandbox, external!.address, port);
    expect(attempt.stdout.toString().trim()).toBe('ENETUNREACH');
  });

  it('has only a loopback interface, and it is up', async () => {
    // /proc/net is per network namespace (the bound host /sys is not).
    const links = (await sh(sandbox, 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')).out.trim().split('\n');
    expect(links).toEqual(['lo']);
    expect((await sh(sandbox, 'ip -o link show lo')).out).toMatch(/<LOOPBACK,UP,/);
  });

  it('holds no capability, so cannot mount or nest a user namespace', async () => {
    expect(capEff((await sh(sandbox, 'cat /proc/self/status')).out)).toBe(0n);
    expect((await sh(sandbox, 'mount -t tmpfs x /mnt')).code).not.toBe(0);
    expect((await sh(sandbox, 'unshare -U true')).code).not.toBe(0);
    expect((await sh(sandbox, 'ip link set lo down')).code).not.toBe(0);
  });

  it('holds exactly the capability the spec grants', async () => {
    const granted = await bwrapBackend.create({ capabilities: ['CAP_NET_ADMIN'] });
    try {
      expect(capEff((await sh(granted, 'cat /proc/self/status')).out)).toBe(1n << 12n); // CAP_NET_ADMIN = 12
      expect((await sh(granted, 'ip link set lo down')).code).toBe(0);
      expect((await sh(granted, 'mount -t tmpfs x /mnt')).code).not.toBe(0);
    } finally {
      await granted.destroy();
    }
  });
});
