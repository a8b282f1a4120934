/**
 * The E2B server under load (issue 18, the reliability battery as the proxy's):
 * 200 concurrent SDK-less requests — control plane, envd's /health and /files,
 * Connect unary calls and Connect server streams that run a command — answered
 * while 150 slow clients hold connections without finishing a request head
 * (silent, a partial head, a head trickled a byte at a time). The server closes
 * every slow one with 408 and the process's open file descriptors return to
 * their start value. Counts, no clocks.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { startE2bServer, type E2bServer } from '../../../sandbox-core/e2b/index.ts';
import { connectEnvelope, readConnectStream, type Answer, rawRequest } from '../../helpers/raw-http.ts';
import { fdsBackTo, openFds } from '../../helpers/fds.ts';

const EACH = 40; // 5 kinds of request: 200 at once
const SLOW_KINDS = ['silent', 'partial', 'trickle'] as const;
const SLOW_EACH = 50;
/** Long enough that requests are answered while the slow clients still hold their connections, on a loaded host too. */
const HEADERS_TIMEOUT_MS = 3_000;


let server: E2bServer;
let port: number;
let sandboxId: string;
let token: string;

beforeAll(async () => {
  server = await startE2bServer({ backend: processBackend, headersTimeoutMs: HEADERS_TIMEOUT_MS });
  port = Number(new URL(server.url).port);
  const created = await rawRequest(port, { method: 'POST', path: '/v2/sandboxes', headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json' }, body: '{"timeout":300}' });
  expect(created.status).toBe(201);
  ({ sandboxID: sandboxId, envdAccessToken: token } = JSON.parse(created.body.toString()) as { sandboxID: string; envdAccessToken: string });
});

afterAll(async () => {
  await server?.close();
});

function slowClient(kind: (typeof SLOW_KINDS)[number]): { connected: Promise<unknown>; outcome: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let trickle: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const connected = once(socket, 'connect').then(() => {
    if (kind === 'partial') socket.write(`POST /v2/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: `);
    if (kind === 'trickle') {
      const head = `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Slow: 1\r\n'.repeat(1000)}`;
      let sent = 0;
      trickle = setInterval(() => socket.writable && socket.write(head[sent++ % head.length]!), 100);
    }
  });
  const outcome = once(socket, 'close').then(() => {
    clearInterval(trickle);
    return received;
  });
  return { connected, outcome };
}

describe('E2B server under load', () => {
  it(`answers ${5 * EACH} concurrent requests while ${SLOW_KINDS.length * SLOW_EACH} slow clients hold connections, closes every slow one with 408, and gives every fd back`, async () => {
    await rawRequest(port, { method: 'POST', path: `/files?path=load.txt`, headers: { 'e2b-sandbox-id': sandboxId, 'x-access-token': token, 'content-type': 'application/octet-stream' }, body: 'loaded' });
    const startFds = openFds();
    const slow = SLOW_KINDS.flatMap((kind) => Array.from({ length: SLOW_EACH }, () => slowClient(kind)));
    await Promise.all(slow.map((client) => client.connected));
    let slowClosed = 0;
    for (const client of slow) void client.outcome.then(() => slowClosed++);

    const envd = { 'e2b-sandbox-id': sandboxId, 'x-access-token': token };
    const kinds: Record<string, (i: number) => Promise<Answer>> = {
      control: () => rawRequest(port, { method: 'GET', path: `/sandboxes/${sandboxId}`, headers: { 'x-api-key': server.apiKey } }),
      health: () => rawRequest(port, { method: 'GET', path: '/health', headers: envd }),
      download: () => rawRequest(port, { method: 'GET', path: '/files?path=load.txt', headers: envd }),
      list: () => rawRequest(port, { method: 'POST', path: '/process.Process/List', headers: { ...envd, 'content-type': 'application/json', 'connect-protocol-version': '1' }, body: '{}' }),
      start: (i) =>
        rawRequest(port, {
          method: 'POST',
          path: '/process.Process/Start',
          headers: { ...envd, 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
          body: connectEnvelope({ process: { cmd: '/bin/sh', args: ['-c', `echo run-${i}`] } }),
        }),
    };
    let answeredWhileAllHeld = 0;
    const requests = Object.entries(kinds).flatMap(([kind, send]) =>
      Array.from({ length: EACH }, (_, i) =>
        send(i).then((answer) => {
          if (slowClosed === 0) answeredWhileAllHeld++;
          return { kind, i, answer };
        }),
      ),
    );
    const answers = await Promise.all(requests);
    for (const { kind, i, answer } of answers) {
      expect(answer.status, `${kind} #${i}`).toBe(kind === 'health' ? 204 : 200);
      if (kind === 'control') expect(JSON.parse(answer.body.toString())).toMatchObject({ sandboxID: sandboxId, state: 'running' });
      if (kind === 'download') expect(answer.body.toString()).toBe('loaded');
      if (kind === 'start') {
        const { messages, trailer } = readConnectStream(answer.body);
        const stdout = messages.flatMap((m) => (m.event?.data?.stdout ? [Buffer.from(m.event.data.stdout, 'base64').toString()] : [])).join('');
        expect(stdout, `start #${i}`).toBe(`run-${i}\n`);
        expect(messages.at(-1)?.event?.end, `start #${i} ends`).toMatchObject({ exited: true, status: 'exit status 0' });
        expect(trailer, `start #${i} ends the stream cleanly`).toEqual({});
      }
    }

    const outcomes = await Promise.all(slow.map((client) => client.outcome));
    expect(outcomes.filter((received) => received.startsWith('HTTP/1.1 408 '))).toHaveLength(SLOW_KINDS.length * SLOW_EACH);
    expect(answeredWhileAllHeld).toBeGreaterThan(0);

    expect(await fdsBackTo(startFds)).toBe(startFds);
    expect(server.sessions.get(sandboxId)?.processes.list()).toEqual([]);
  });
});
