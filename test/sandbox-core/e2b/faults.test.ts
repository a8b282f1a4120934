/**
 * The E2B server's faults (issue 18, the reliability battery as the proxy's):
 * malformed Connect frames and bodies (generated, fast-check seed 1819),
 * oversized messages, and clients that go away mid-stream, mid-upload and
 * mid-download. The server answers each in Connect's or E2B's error shape,
 * never as an internal error, keeps serving, and gives back every fd.
 */
import { once } from 'node:events';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { startE2bServer, type E2bServer } from '../../../sandbox-core/e2b/index.ts';
import { connectEnvelope, rawRequest, readConnectStream } from '../../helpers/raw-http.ts';
import { fdsBackTo, openFds } from '../../helpers/fds.ts';

const LIMIT = 4096;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: E2bServer;
let port: number;
let sandboxId: string;
let token: string;
const internal: string[] = [];
let envd: Record<string, string>;


async function stillServing(): Promise<void> {
  expect((await rawRequest(port, { method: 'GET', path: '/health', headers: envd })).status).toBe(204);
  expect((await rawRequest(port, { method: 'GET', path: '/v2/sandboxes', headers: { 'x-api-key': server.apiKey } })).status).toBe(200);
}

/** A Connect unary call in JSON. */
function unary(method: string, body: object) {
  return rawRequest(port, { method: 'POST', path: method, headers: { ...envd, 'content-type': 'application/json', 'connect-protocol-version': '1' }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  // Every note but the one about the template: an internal error, a failed rpc handler.
  server = await startE2bServer({ backend: processBackend, maxUploadBytes: LIMIT, log: (message) => !message.startsWith('template ') && internal.push(message) });
  port = Number(new URL(server.url).port);
  const created = await rawRequest(port, { method: 'POST', path: '/v2/sandboxes', headers: { 'x-api-key': server.apiKey }, body: '{"timeout":300}' });
  ({ sandboxID: sandboxId, envdAccessToken: token } = JSON.parse(created.body.toString()) as { sandboxID: string; envdAccessToken: string });
  envd = { 'e2b-sandbox-id': sandboxId, 'x-access-token': token };
});

afterAll(async () => {
  await server?.close();
});

describe('E2B server faults', () => {
  it('answers malformed Connect frames and bodies without an internal error (fast-check, seed 1819)', async () => {
    const startFds = openFds();
    const call = fc.record({
      path: fc.constantFrom('/process.Process/Start', '/process.Process/Connect', '/process.Process/List', '/process.Process/SendSignal', '/filesystem.Filesystem/Stat', '/filesystem.Filesystem/ListDir'),
      contentType: fc.constantFrom('application/connect+proto', 'application/connect+json', 'application/proto', 'application/json'),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // An envelope whose flags, declared length and bytes are any: compressed without an encoding, cut short, over the limit, a bare end-stream.
        fc.tuple(fc.integer({ min: 0, max: 255 }), fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }), fc.uint8Array({ maxLength: 64 })).map(([flags, declared, bytes]) => connectEnvelope(bytes, flags, declared)),
        fc.json().map((json) => connectEnvelope(Buffer.from(json))),
        fc.json(),
      ),
      version: fc.constantFrom('1', undefined, '2'),
    });
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(call, async ({ path, contentType, body, version }) => {
        const headers: Record<string, string> = { ...envd, 'content-type': contentType, ...(version ? { 'connect-protocol-version': version } : {}) };
        const answer = await rawRequest(port, { method: 'POST', path, headers, body });
        expect(answer.status).not.toBe(500);
        if (answer.status === 200 && contentType.startsWith('application/connect+') && /\/(Start|Connect)$/.test(path)) {
          // A stream ends with an end-stream message, and a malformed request is not an internal error there either.
          const { trailer } = readConnectStream(answer.body);
          expect(trailer).toBeDefined();
          expect(trailer.error?.code).not.toBe('internal');
        }
        answered++;
      }),
      { seed: 1819, numRuns: 1000 },
    );
    expect(answered).toBe(1000);
    expect(internal).toEqual([]);
    await stillServing();
    // Generated calls may start commands (a List or Stat body is any bytes): none outlives this test.
    for (const record of server.sessions.get(sandboxId)!.processes.list()) await server.sessions.get(sandboxId)!.processes.signal(record, 'KILL');
    expect(await fdsBackTo(startFds)).toBe(startFds);
  });

  it('answers protobuf that does not parse invalid_argument, as Go envd does, not internal (found by the generated calls above)', async () => {
    const headers = { ...envd, 'connect-protocol-version': '1' };
    // 0x22: field 4, length-delimited, then a length of 34 and no bytes.
    const unaryCall = await rawRequest(port, { method: 'POST', path: '/filesystem.Filesystem/ListDir', headers: { ...headers, 'content-type': 'application/proto' }, body: '""' });
    expect(unaryCall.status).toBe(400);
    expect(JSON.parse(unaryCall.body.toString())).toEqual({ code: 'invalid_argument', message: 'parse binary: premature EOF' });
    // 0x0a: field 1 (process), length-delimited, then a length of 5 and no bytes.
    const streamCall = await rawRequest(port, { method: 'POST', path: '/process.Process/Start', headers: { ...headers, 'content-type': 'application/connect+proto' }, body: connectEnvelope(Buffer.from([0x0a, 0x05])) });
    expect(readConnectStream(streamCall.body)).toEqual({ messages: [], trailer: { error: { code: 'invalid_argument', message: 'parse binary: premature EOF' } } });
    expect(internal).toEqual([]);
  });

  it('refuses oversized messages in the shape of their protocol, and keeps serving', async () => {
    const big = 'x'.repeat(LIMIT + 1);
    const stat = await unary('/filesystem.Filesystem/Stat', { path: big });
    expect(stat.status).toBe(429);
    expect(JSON.parse(stat.body.toString())).toMatchObject({ code: 'resource_exhausted', message: 'message size 4108 is larger than configured readMaxBytes 4096' });
    const stream = await rawRequest(port, {
      method: 'POST',
      path: '/process.Process/Start',
      headers: { ...envd, 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
      body: connectEnvelope({ process: { cmd: 'echo', args: [big] } }),
    });
    expect(stream.status).toBe(200);
    expect(readConnectStream(stream.body)).toMatchObject({ messages: [], trailer: { error: { code: 'resource_exhausted' } } });
    // An envelope that declares 4 GiB and sends 5 bytes is refused by its declared length, not waited for.
    const declared = await rawRequest(port, {
      method: 'POST',
      path: '/process.Process/Start',
      headers: { ...envd, 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
      body: connectEnvelope(Buffer.from('{}'), 0, 2 ** 32 - 1),
    });
    expect(readConnectStream(declared.body).trailer).toMatchObject({ error: { code: 'resource_exhausted' } });
    const control = await rawRequest(port, { method: 'POST', path: '/v2/sandboxes', headers: { 'x-api-key': server.apiKey }, body: `{"metadata":{"a":"${'y'.repeat(1024 * 1024)}"}}` });
    expect(control.status).toBe(413);
    expect(JSON.parse(control.body.toString())).toMatchObject({ code: 413, message: expect.stringMatching(/over the limit of 1048576 bytes/) });
    await stillServing();
    expect(internal).toEqual([]);
  });

  it('keeps serving when a client goes away mid-stream, mid-upload and mid-download; the command it started runs on, as on E2B', async () => {
    const startFds = openFds();
    // Mid-stream: the Start event arrives, then the client is gone before the command ends.
    const streamer = net.connect(port, '127.0.0.1');
    await once(streamer, 'connect');
    const start = connectEnvelope({ process: { cmd: '/bin/sh', args: ['-c', 'sleep 600'] }, tag: 'left-behind' });
    const head = Object.entries({ ...envd, 'content-type': 'application/connect+json', 'connect-protocol-version': '1', 'content-length': String(start.length) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    streamer.write(`POST /process.Process/Start HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}\r\n`);
    streamer.write(start);
    let seen = '';
    for await (const chunk of streamer) {
      seen += (chunk as Buffer).toString('latin1');
      if (seen.includes('"start"')) break; // the for-await's exit destroys the socket
    }
    expect(seen).toMatch(/^HTTP\/1\.1 200 /);
    await stillServing();
    const listed = JSON.parse((await unary('/process.Process/List', {})).body.toString()) as { processes: { tag?: string; pid: number }[] };
    expect(listed.processes.map((p) => p.tag)).toContain('left-behind');
    const signalled = await unary('/process.Process/SendSignal', { process: { tag: 'left-behind' }, signal: 'SIGNAL_SIGKILL' });
    expect(signalled.status).toBe(200);

    // Mid-upload: a body that declares more than it sends, then the client is gone: nothing is written.
    const uploader = net.connect(port, '127.0.0.1');
    await once(uploader, 'connect');
    const uploadHead = Object.entries({ ...envd, 'content-type': 'application/octet-stream', 'content-length': String(LIMIT) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    uploader.write(`POST /files?path=half.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n${uploadHead}\r\n${'z'.repeat(100)}`);
    await sleep(50);
    uploader.destroy();
    await stillServing();
    expect((await rawRequest(port, { method: 'GET', path: '/files?path=half.bin', headers: envd })).status).toBe(404);

    // Mid-download: a file larger than any socket buffer, the client gone after its first bytes.
    await server.sessions.get(sandboxId)!.sandbox.writeFile('big.bin', new Uint8Array(16 * 1024 * 1024));
    const downloader = net.connect(port, '127.0.0.1');
    await once(downloader, 'connect');
    downloader.write(`GET /files?path=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(envd).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    await once(downloader, 'data');
    downloader.destroy();
    await stillServing();

    expect(internal).toEqual([]);
    for (let waited = 0; waited < 10_000 && server.sessions.get(sandboxId)!.processes.list().length > 0; waited += 20) await sleep(20);
    expect(server.sessions.get(sandboxId)!.processes.list()).toEqual([]);
    expect(await fdsBackTo(startFds)).toBe(startFds);
  });
});
