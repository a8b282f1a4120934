/**
 * The egress proxy under 1,000 concurrent connections (issue 16, load): 400
 * clients each send one request and 600 slow ones never finish a request
 * head — connected and silent, a partial head, a head trickled a byte at a
 * time, and (intercept mode) a CONNECT whose TLS handshake never starts.
 * Every request is answered while the slow clients hold their connections;
 * the proxy closes every slow one (408 where it can still speak HTTP), and
 * the process's open file descriptors return to their start value. Counts,
 * no clocks.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa } from '../../../sandbox-core/proxy/ca.ts';
import { startProxy, type RunningProxy } from '../../../sandbox-core/proxy/proxy.ts';
import { fdsBackTo, openFds } from '../../helpers/fds.ts';

const GOOD = 400;
const SLOW_KINDS = ['silent', 'partial', 'trickle', 'connect-silent'] as const;
const SLOW_EACH = 150;
/** Long enough that requests are answered while the slow clients still hold their connections, on a loaded host too. */
const HEADERS_TIMEOUT_MS = 3_000;
const TRICKLE_EVERY_MS = 100;
/** Both ends of every connection live in this process, plus the proxy's upstream sockets. */
const FDS_NEEDED = 4 * (GOOD + SLOW_KINDS.length * SLOW_EACH) + 256;

type SlowKind = (typeof SLOW_KINDS)[number];


/** Raise this process's soft open-files limit (a CI runner may start at 1,024) up to its hard limit. */
function ensureOpenFiles(wanted: number): void {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((entry) => entry.startsWith('Max open files'))!;
  const [soft, hard] = line.split(/\s+/).slice(3, 5).map((value) => (value === 'unlimited' ? Infinity : Number(value)));
  if (soft! >= wanted) return;
  if (hard! < wanted) throw new Error(`this test needs ${wanted} open files; the hard limit is ${hard}`);
  execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${wanted}:${hard === Infinity ? 'unlimited' : hard}`]);
}

let dir: string;
let upstream: http.Server;
let upstreamPort: number;
let proxy: RunningProxy;
beforeAll(async () => {
  ensureOpenFiles(FDS_NEEDED);
  dir = mkdtempSync(join(tmpdir(), 'rigor-proxy-load-'));
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end(`ok ${req.url}`);
  });
  // The proxy keeps upstream connections alive; the upstream lets them go soon so they can be counted as gone.
  upstream.keepAliveTimeout = 200;
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = await startProxy({ mode: 'intercept', ca: await loadOrCreateCa(dir), headersTimeoutMs: HEADERS_TIMEOUT_MS });
});
afterAll(async () => {
  await proxy?.close();
  upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a slow client sees: whether the proxy (not the client) closed it, and what it was told. */
interface SlowOutcome {
  kind: SlowKind;
  closedByProxy: boolean;
  received: string;
}

function slowClient(kind: SlowKind): { connected: Promise<unknown>; outcome: Promise<SlowOutcome> } {
  const socket = net.connect(proxy.port, '127.0.0.1');
  let received = '';
  let trickle: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const connected = once(socket, 'connect').then(() => {
    const target = `http://127.0.0.1:${upstreamPort}/slow`;
    if (kind === 'partial') socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Wait: `);
    if (kind === 'connect-silent') socket.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\n\r\n`);
    if (kind === 'trickle') {
      const head = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Slow: 1\r\n'.repeat(1000)}`;
      let sent = 0;
      trickle = setInterval(() => socket.writable && socket.write(head[sent++ % head.length]!), TRICKLE_EVERY_MS);
    }
  });
  const outcome = once(socket, 'close').then(() => {
    clearInterval(trickle);
    return { kind, closedByProxy: true, received };
  });
  return { connected, outcome };
}

function goodRequest(i: number): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const path = `http://127.0.0.1:${upstreamPort}/good-${i}`;
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path, agent: false, headers: { host: `127.0.0.1:${upstreamPort}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('egress proxy under 1,000 concurrent connections', () => {
  it(`answers ${GOOD} requests while ${SLOW_KINDS.length * SLOW_EACH} slow clients hold connections, closes every slow one, and gives every fd back`, async () => {
    const startFds = openFds();
    const rejectedBefore = proxy.stats().rejected;
    const slow = SLOW_KINDS.flatMap((kind) => Array.from({ length: SLOW_EACH }, () => slowClient(kind)));
    await Promise.all(slow.map((client) => client.connected));
    let slowClosed = 0;
    for (const client of slow) void client.outcome.then(() => slowClosed++);

    // Answers that arrived before the proxy closed any slow client: served while all 600 held their connections.
    let answeredWhileAllHeld = 0;
    const answers = await Promise.all(Array.from({ length: GOOD }, (_, i) => goodRequest(i).then((answer) => {
      if (slowClosed === 0) answeredWhileAllHeld++;
      return answer;
    })));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.map((answer) => answer.body)).toEqual(answers.map((_, i) => `ok /good-${i}`));

    const outcomes = await Promise.all(slow.map((client) => client.outcome));
    expect(outcomes.filter((outcome) => outcome.closedByProxy)).toHaveLength(SLOW_KINDS.length * SLOW_EACH);
    for (const kind of ['silent', 'partial', 'trickle'] as const) {
      const told = outcomes.filter((outcome) => outcome.kind === kind && /^HTTP\/1\.1 408 /.test(outcome.received));
      expect(told, `${kind} clients answered 408`).toHaveLength(SLOW_EACH);
    }
    // A CONNECT is established (200) before the handshake that never comes; then the connection is closed.
    expect(outcomes.filter((outcome) => outcome.kind === 'connect-silent' && outcome.received.startsWith('HTTP/1.1 200 Connection Established'))).toHaveLength(SLOW_EACH);
    expect(proxy.stats().rejected - rejectedBefore).toBeGreaterThanOrEqual(SLOW_KINDS.length * SLOW_EACH);

    expect(await fdsBackTo(startFds)).toBe(startFds);
    expect(answeredWhileAllHeld).toBeGreaterThan(0);
  });
});
