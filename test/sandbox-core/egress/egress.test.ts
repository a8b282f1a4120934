import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECURSION_DESIRED, decode, encode, type Packet } from 'dns-packet';
import { startEgress, type Egress } from '../../../sandbox-core/egress/index.ts';
import { startUpstreams, type Upstreams } from '../proxy/upstream.ts';

// Default block, so every allow below is a rule's doing and carries its id.
const POLICY = `default: block
rules:
  - id: allow-loopback
    when: event == "http.request" && request.host == "127.0.0.1"
    decision: allow
  - id: no-localhost
    when: event == "http.request" && request.host == "localhost"
    decision: block
  - id: no-evil
    when: event == "dns.query" && query.name == "evil.test"
    decision: block
  - id: dns-rest
    when: event == "dns.query"
    decision: allow
  - id: watch-sh
    when: event == "process.exec" && "/bin/sh" in process.argv
    decision: log
`;

let dir: string;
let upstreams: Upstreams;
let egress: Egress;
let caPem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-egress-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  upstreams = await startUpstreams();
  egress = await startEgress({
    policyPath: join(dir, 'policy.yaml'),
    auditPath: join(dir, 'audit.sqlite'),
    zone: new Map([['ok.test', ['127.0.0.1']], ['evil.test', ['127.0.0.1']], ['localhost', ['127.0.0.1']]]),
    mode: 'intercept',
    upstreamCa: [upstreams.caPem],
    caDir: join(dir, 'ca'),
    sandbox: 'sb-egress',
  });
  caPem = await readFile(join(dir, 'ca', 'cert.pem'), 'utf8');
});
afterAll(async () => {
  await egress?.close();
  await upstreams?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET https://<host>:<upstream port><path> through an intercepted CONNECT, trusting the egress CA. */
async function httpsGet(host: string, path: string): Promise<{ status: number; body: string }> {
  const authority = `${host}:${upstreams.httpsPort}`;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: egress.proxy.port, method: 'CONNECT', path: authority, agent: false });
    req.on('connect', (res, s) => (res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`))));
    req.on('error', reject);
    req.end();
  });
  const secure = tls.connect({ socket, servername: host === '127.0.0.1' ? undefined : host, host, ca: [caPem] });
  await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  try {
    return await new Promise((resolve, reject) => {
      const req = https.request({ path, headers: { host: authority }, createConnection: () => secure });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    secure.destroy();
  }
}

/** One UDP query to the egress resolver; waits at most 2 s for its answer. */
async function ask(name: string): Promise<Packet> {
  const client = createSocket('udp4');
  try {
    const answer = new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${name} within 2 s`)), 2_000);
      client.on('message', (message) => {
        clearTimeout(timer);
        resolve(decode(message));
      });
    });
    client.send(encode({ id: 7, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type: 'A' }] }), egress.dns.port, '127.0.0.1');
    return await answer;
  } finally {
    client.close();
  }
}

describe('startEgress', () => {
  it('judges and audits every attempt exactly once', async () => {
    let attempts = 0;

    attempts++;
    const allowed = await httpsGet('127.0.0.1', '/fine?x=1');
    expect(allowed).toEqual({ status: 200, body: 'hello from upstream GET /fine?x=1' });
    expect(upstreams.https.paths).toEqual(['/fine?x=1']);
    expect(egress.audit.events({ kind: 'http', decision: 'allow' })).toEqual([
      expect.objectContaining({ sandbox: 'sb-egress', subject: '127.0.0.1/fine?x=1', ruleId: 'allow-loopback', detail: { method: 'GET', port: upstreams.httpsPort, address: '127.0.0.1' } }),
    ]);

    // The proxy's own lookup of the name is an attempt too: judged by dns.query, audited as dns.
    attempts += 2;
    const hits = upstreams.https.hits;
    const blocked = await httpsGet('localhost', '/secret');
    expect(blocked.status).toBe(403);
    expect(blocked.body).toContain('no-localhost');
    expect(upstreams.https.hits).toBe(hits);
    expect(egress.audit.events({ kind: 'http', decision: 'block' })).toEqual([
      expect.objectContaining({ subject: 'localhost/secret', ruleId: 'no-localhost', detail: expect.objectContaining({ address: '127.0.0.1' }) }),
    ]);

    attempts++;
    const evil = await ask('evil.test');
    expect(evil.rcode).toBe('NXDOMAIN');
    attempts++;
    const ok = await ask('ok.test');
    expect(ok.rcode).toBe('NOERROR');
    expect(ok.answers?.map((a) => a.data)).toEqual(['127.0.0.1']);
    expect(egress.audit.events({ kind: 'dns' }).map((e) => [e.subject, e.decision, e.ruleId])).toEqual([
      ['localhost', 'allow', 'dns-rest'],
      ['evil.test', 'block', 'no-evil'],
      ['ok.test', 'allow', 'dns-rest'],
    ]);

    attempts++;
    expect(egress.deciders.exec(['/bin/sh', '-c', 'true'], '/work')).toEqual({ decision: 'log', ruleId: 'watch-sh' });
    attempts++;
    expect(egress.deciders.exec(['/usr/bin/curl'], '/work')).toEqual({ decision: 'block', ruleId: null });
    expect(egress.audit.events({ kind: 'exec' }).map((e) => [e.subject, e.decision, e.ruleId, e.detail])).toEqual([
      ['/bin/sh -c true', 'log', 'watch-sh', { argv: ['/bin/sh', '-c', 'true'], cwd: '/work' }],
      ['/usr/bin/curl', 'block', null, { argv: ['/usr/bin/curl'], cwd: '/work' }],
    ]);

    expect(egress.audit.count()).toBe(attempts);
    expect(egress.proxy.stats()).toMatchObject({ decided: 2, allowed: 1, blocked: 1 });
    expect(egress.dns.stats()).toMatchObject({ queries: 3, auditFailures: 0 });
  });

  it("resolves names only through the sandbox resolver: its policy and audit see every name the proxy connects to", async () => {
    const hits = upstreams.https.hits;
    const before = egress.audit.count();
    // A name the dns.query rules block is refused by the proxy too, whatever http rule would allow it.
    const blocked = await httpsGet('evil.test', '/x');
    expect(blocked.status).toBe(403);
    expect(blocked.body).toContain('no-evil');
    // The host's own resolver knows this machine's name (/etc/hosts); the sandbox resolver's zone does not.
    const unknown = await httpsGet(hostname().toLowerCase(), '/y');
    expect(unknown.status).toBe(502);
    expect(unknown.body).toMatch(/not in the sandbox resolver's zone/);
    expect(upstreams.https.hits).toBe(hits);
    const events = egress.audit.events({ kind: 'dns' }).slice(-2);
    expect(events.map((e) => [e.subject, e.decision, e.detail.rcode, e.detail.via])).toEqual([
      ['evil.test', 'block', 'NXDOMAIN', 'proxy'],
      [hostname().toLowerCase(), 'allow', 'NXDOMAIN', 'proxy'],
    ]);
    // Two lookups, no http decision: nothing was judged as a request to a name that has no address.
    expect(egress.audit.count()).toBe(before + 2);
  });

  it('fails closed when the audit cannot be written: nothing goes upstream unrecorded', async () => {
    egress.audit.close();
    const hits = upstreams.https.hits;
    const reply = await httpsGet('127.0.0.1', '/unrecorded');
    expect(reply.status).toBe(503);
    expect(upstreams.https.hits).toBe(hits);
    expect((await ask('ok.test')).rcode).toBe('SERVFAIL');
    expect(() => egress.deciders.exec(['/bin/sh'], '/')).toThrow();
  });
});
