import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa, type Ca } from '../../../sandbox-core/proxy/ca.ts';
import type { HttpRequestEvent } from '../../../sandbox-core/proxy/decide.ts';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../../sandbox-core/proxy/proxy.ts';
import { startUpstreams, type Upstreams } from './upstream.ts';

let upstreams: Upstreams;
let ca: Ca;
const running: RunningProxy[] = [];

beforeAll(async () => {
  upstreams = await startUpstreams();
  ca = await loadOrCreateCa(join(await mkdtemp(join(tmpdir(), 'rigor-proxy-ca-')), 'ca'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((proxy) => proxy.close()));
  for (const log of [upstreams.http, upstreams.https]) {
    log.hits = 0;
    log.paths = [];
  }
});
afterAll(() => upstreams.close());

async function proxy(options: Partial<ProxyOptions> & Pick<ProxyOptions, 'mode'>): Promise<RunningProxy> {
  const started = await startProxy({ ca, upstreamCa: [upstreams.caPem], ...options });
  running.push(started);
  return started;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function collect(res: http.IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
  });
}

/** A forward-proxy GET: absolute-form target to the proxy's port. */
function plainGet(p: RunningProxy, url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: p.port, path: url, headers: { host: new URL(url).host }, agent: false });
    req.on('response', (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT through the proxy; resolves with the proxy's answer and the raw socket. */
function connect(p: RunningProxy, authority: string): Promise<{ status: number; socket: net.Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: p.port, method: 'CONNECT', path: authority, agent: false });
    req.on('connect', (res, socket, head) => resolve({ status: res.statusCode ?? 0, socket, head }));
    req.on('error', reject);
    req.end();
  });
}

/** GET https://127.0.0.1:<port><path> through a CONNECT, trusting only `trust`. */
async function httpsGet(p: RunningProxy, path: string, trust: string, onResponse?: (res: http.IncomingMessage) => Promise<Reply>) {
  const authority = `127.0.0.1:${upstreams.httpsPort}`;
  const tunnel = await connect(p, authority);
  expect(tunnel.status).toBe(200);
  const secure = tls.connect({ socket: tunnel.socket, host: '127.0.0.1', ca: [trust] });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  const peer = new X509Certificate(secure.getPeerCertificate(true).raw);
  const reply = await new Promise<Reply>((resolve, reject) => {
    const req = https.request({ path, headers: { host: authority }, createConnection: () => secure });
    req.on('response', (res) => (onResponse ?? collect)(res).then(resolve, reject));
    req.on('error', reject);
    req.end();
  });
  secure.destroy();
  return { ...reply, peer };
}

/** Write raw bytes to the proxy and read until it closes (or `ms` pass). */
function raw(p: RunningProxy, bytes: string, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(p.port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(text); }, ms);
    socket.on('data', (chunk) => { text += chunk.toString(); });
    socket.on('close', () => { clearTimeout(timer); resolve(text); });
    socket.on('error', (error) => { clearTimeout(timer); reject(error); });
    socket.write(bytes);
  });
}

describe('startProxy', () => {
  it('forwards a plain GET and gives the request to decide first', async () => {
    const seen: HttpRequestEvent[] = [];
    const p = await proxy({ mode: 'tunnel', decide: (event) => { seen.push(event); return { decision: 'log', ruleId: 'watch' }; } });
    const url = `http://127.0.0.1:${upstreams.httpPort}/hello?x=1`;
    const first = await plainGet(p, url);
    const second = await plainGet(p, url);
    expect(first).toMatchObject({ status: 200, body: 'hello from upstream GET /hello?x=1' });
    expect(second.status).toBe(200);
    expect(first.headers['x-upstream-host']).toBe(`127.0.0.1:${upstreams.httpPort}`);
    expect(upstreams.http.hits).toBe(2);
    expect(seen[0]).toMatchObject({ host: '127.0.0.1', port: upstreams.httpPort, method: 'GET', path: '/hello?x=1' });
    expect(p.stats()).toMatchObject({ decided: 2, logged: 2, blocked: 0 });
  });

  it('tunnels CONNECT as raw bytes: the client sees the upstream certificate', async () => {
    const p = await proxy({ mode: 'tunnel' });
    const reply = await httpsGet(p, '/tunnelled', upstreams.caPem);
    expect(reply).toMatchObject({ status: 200, body: 'hello from upstream GET /tunnelled' });
    expect(reply.peer.issuer).toBe(new X509Certificate(upstreams.caPem).subject);
    expect(upstreams.https.hits).toBe(1);
    expect(p.stats()).toMatchObject({ tunnels: 1, intercepted: 0, decided: 1 });
  });

  it('intercepts CONNECT: the client sees a leaf from the proxy CA and the upstream sees the request', async () => {
    const seen: HttpRequestEvent[] = [];
    const p = await proxy({ mode: 'intercept', decide: (event) => { seen.push(event); return { decision: 'allow', ruleId: null }; } });
    const reply = await httpsGet(p, '/inside?q=2', ca.certPem);
    expect(reply).toMatchObject({ status: 200, body: 'hello from upstream GET /inside?q=2' });
    expect(reply.peer.issuer).toBe(new X509Certificate(ca.certPem).subject);
    expect(reply.peer.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(upstreams.https.paths).toEqual(['/inside?q=2']);
    expect(seen).toEqual([expect.objectContaining({ host: '127.0.0.1', port: upstreams.httpsPort, method: 'GET', path: '/inside?q=2' })]);
    await httpsGet(p, '/again', ca.certPem);
    expect(p.stats()).toMatchObject({ intercepted: 2, leavesMade: 1, allowed: 2 });
  });

  it('refuses an intercepted client that does not trust the proxy CA, and reaches no upstream', async () => {
    const p = await proxy({ mode: 'intercept' });
    await expect(httpsGet(p, '/x', upstreams.caPem)).rejects.toThrow(/certificate/);
    expect(upstreams.https.hits).toBe(0);
  });

  it('answers a blocked request 403 naming the rule; the upstream never sees it', async () => {
    const decide = (event: HttpRequestEvent) =>
      event.path.startsWith('/secret') || event.method === 'CONNECT'
        ? { decision: 'block' as const, ruleId: 'no-secrets' }
        : { decision: 'allow' as const, ruleId: null };
    const intercepting = await proxy({ mode: 'intercept', decide });
    const inner = await httpsGet(intercepting, '/secret/key', ca.certPem);
    expect(inner.status).toBe(403);
    expect(inner.body).toContain('no-secrets');
    expect(inner.headers['x-rigor-rule']).toBe('no-secrets');
    const plain = await plainGet(intercepting, `http://127.0.0.1:${upstreams.httpPort}/secret`);
    expect(plain.status).toBe(403);
    const tunnelling = await proxy({ mode: 'tunnel', decide });
    const refused = await connect(tunnelling, `127.0.0.1:${upstreams.httpsPort}`);
    expect(refused.status).toBe(403);
    refused.socket.destroy();
    expect(upstreams.https.hits + upstreams.http.hits).toBe(0);
    expect(intercepting.stats()).toMatchObject({ blocked: 2, allowed: 0 });
  });

  it('fails closed when decide throws', async () => {
    const p = await proxy({ mode: 'intercept', decide: () => { throw new Error('engine down'); } });
    const reply = await plainGet(p, `http://127.0.0.1:${upstreams.httpPort}/x`);
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('engine down');
    expect(upstreams.http.hits).toBe(0);
  });

  it('streams a 20 MiB intercepted download with backpressure: a paused client holds the upstream back', async () => {
    const p = await proxy({ mode: 'intercept' });
    const size = 20 * 1024 * 1024;
    upstreams.https.bigFinishedAt = undefined;
    let firstByteAt = 0;
    let received = 0;
    let chunks = 0;
    let sentWhilePaused = 0;
    const reply = await httpsGet(p, `/big?bytes=${size}`, ca.certPem, (res) =>
      new Promise((resolve, reject) => {
        res.on('data', (chunk: Buffer) => {
          chunks += 1;
          received += chunk.length;
          if (chunks > 1) return;
          firstByteAt = performance.now();
          res.pause();
          // Held until the upstream stalls (its count unchanged over five looks) or has sent everything: not a fixed sleep.
          void (async () => {
            let still = 0;
            for (let last = -1; still < 5 && upstreams.https.bigFinishedAt === undefined; ) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              still = upstreams.https.bigSent === last ? still + 1 : 0;
              last = upstreams.https.bigSent;
            }
            sentWhilePaused = upstreams.https.bigSent;
            res.resume();
          })();
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
      }),
    );
    expect(reply.status).toBe(200);
    expect(received).toBe(size);
    expect(chunks).toBeGreaterThan(10);
    expect(firstByteAt).toBeLessThan(upstreams.https.bigFinishedAt!);
    // A proxy that buffered the body would have drained all 20 MiB from the upstream by now;
    // with backpressure only what socket buffers hold (about 8 MiB on loopback here) has left it.
    expect(sentWhilePaused).toBeLessThan(size * 0.75);
  });

  it('answers malformed requests 400 and keeps serving', async () => {
    const p = await proxy({ mode: 'intercept' });
    expect(await raw(p, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(p, 'GET http://exa$mple.com/ HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [\s\S]*bad host/);
    expect(await raw(p, 'GET /not-absolute HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [\s\S]*absolute/);
    expect(await raw(p, 'CONNECT nope HTTP/1.1\r\nHost: nope\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [\s\S]*host:port/);
    expect(await raw(p, 'CONNECT 127.0.0.1:0 HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect((await plainGet(p, `http://127.0.0.1:${upstreams.httpPort}/still`)).status).toBe(200);
    expect(p.stats().rejected).toBe(5);
  });

  it('sends a chunked body of a GET or DELETE upstream chunked: it never becomes a request the policy did not see (found by fuzz.test.ts)', async () => {
    const seen: string[] = [];
    const p = await proxy({ mode: 'tunnel', decide: (event) => { seen.push(event.path); return { decision: 'allow', ruleId: null }; } });
    const hidden = `GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    for (const method of ['GET', 'DELETE']) {
      const request = `${method} http://127.0.0.1:${upstreams.httpPort}/${method.toLowerCase()} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
      const reply = await raw(p, `${request}${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`);
      expect(reply).toMatch(new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*hello from upstream ${method} /${method.toLowerCase()}\r\n`));
    }
    // Give a smuggled request, had one been sent, the time to arrive: the next request on the upstream's side comes after it.
    expect((await plainGet(p, `http://127.0.0.1:${upstreams.httpPort}/after`)).status).toBe(200);
    expect(upstreams.http.paths).toEqual(['/get', '/delete', '/after']);
    expect(seen).toEqual(['/get', '/delete', '/after']);
  });

  it('answers oversized headers 431', async () => {
    const p = await proxy({ mode: 'tunnel', maxHeaderSize: 8192 });
    const reply = await raw(p, `GET http://127.0.0.1:${upstreams.httpPort}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(upstreams.http.hits).toBe(0);
  });

  it('serves other clients while a slow client holds a connection, then times the slow one out', async () => {
    const p = await proxy({ mode: 'intercept', headersTimeoutMs: 1_000 });
    let slowAnswered = false;
    const slow = raw(p, `GET http://127.0.0.1:${upstreams.httpPort}/sl`, 5_000).finally(() => (slowAnswered = true));
    const fast = await plainGet(p, `http://127.0.0.1:${upstreams.httpPort}/fast`);
    expect(fast.status).toBe(200);
    // Served while the slow client still held its connection: the order of events, not a clock.
    expect(slowAnswered).toBe(false);
    // A 408 is the proxy's timeout; the client's own give-up (5 s) would have read nothing.
    expect(await slow).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('times out a slow client inside an intercepted connection too', async () => {
    const p = await proxy({ mode: 'intercept', headersTimeoutMs: 1_000 });
    const tunnel = await connect(p, `127.0.0.1:${upstreams.httpsPort}`);
    const secure = tls.connect({ socket: tunnel.socket, host: '127.0.0.1', ca: [ca.certPem] });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    secure.write('GET /slow HTT');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      secure.on('data', (chunk) => { text += chunk.toString(); });
      const giveUp = setTimeout(() => secure.destroy(), 5_000);
      secure.on('close', () => { clearTimeout(giveUp); resolve(text); });
    });
    // A 408 is the proxy's timeout; the client's own give-up (5 s) would have read nothing.
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(upstreams.https.hits).toBe(0);
  });
});
