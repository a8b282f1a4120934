import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestBenchPath } from '../../guest-bench/build.ts';
import type { GuestBenchProbe } from '../../guest-bench/schema.ts';
import type { DnsDecide } from '../../sandbox-core/dns/resolve-query.ts';
import { startDnsResolver, type DnsResolver } from '../../sandbox-core/dns/resolver.ts';
import { startProxy, type Decide, type RunningProxy } from '../../sandbox-core/proxy/index.ts';
import { closedPort, parseProbe } from './check-output.ts';
import { startCountingUpstream, type CountingUpstream } from './upstream.ts';
import { waitUntil } from '../helpers/leftovers.ts';

const ZONE = new Map([
  ['allowed.test', ['10.0.0.7', 'fd00::7']],
  // In the zone, so NXDOMAIN can only come from the policy.
  ['blocked.test', ['10.0.0.8']],
]);
const DNS_POLICY: DnsDecide = ({ name }) => (name === 'blocked.test' ? { decision: 'block', ruleId: 'no-blocked' } : { decision: 'allow', ruleId: null });

let bin: string;
let upstream: CountingUpstream;
let resolver: DnsResolver;
let blockingProxy: RunningProxy;
let openProxy: RunningProxy;

beforeAll(async () => {
  upstream = await startCountingUpstream();
  const blockUpstream: Decide = ({ method, port }) =>
    method === 'CONNECT' && port === upstream.port ? { decision: 'block', ruleId: 'no-upstream' } : { decision: 'allow', ruleId: null };
  [bin, resolver, blockingProxy, openProxy] = await Promise.all([
    guestBenchPath(),
    startDnsResolver({ zone: ZONE, decide: DNS_POLICY }),
    startProxy({ mode: 'tunnel', decide: blockUpstream }),
    startProxy({ mode: 'tunnel' }),
  ]);
});
afterAll(async () => {
  await Promise.all([upstream?.close(), resolver?.close(), blockingProxy?.close(), openProxy?.close()]);
});

async function probe<K extends GuestBenchProbe['probe']>(kind: K, args: string[], exitCode = 0): Promise<Extract<GuestBenchProbe, { probe: K }>> {
  const result = await execa(bin, ['probe', kind, ...args], { reject: false, stdin: 'ignore' });
  expect(result.exitCode, result.stderr).toBe(exitCode);
  const report = parseProbe(result.stdout);
  expect(report.probe).toBe(kind);
  return report as Extract<GuestBenchProbe, { probe: K }>;
}

describe('guest-bench probe dns (one TCP connection per attempt)', () => {
  it('gets NOERROR with the zone address for an allowed name, one query per attempt', async () => {
    const before = resolver.stats().queries;
    const report = await probe('dns', ['allowed.test', '--server', `127.0.0.1:${resolver.port}`, '--attempts', '3']);
    expect(report).toMatchObject({ rcode: 'NOERROR', answers: ['10.0.0.7'], rcode_counts: { NOERROR: 3 }, attempts: 3, errors: 0, first_error: null });
    expect(report.samples_ms).toHaveLength(3);
    expect(resolver.stats().queries - before).toBe(3);
  });

  it('reads AAAA records as IPv6 addresses', async () => {
    const report = await probe('dns', ['allowed.test', '--server', `127.0.0.1:${resolver.port}`, '--type', 'AAAA']);
    expect(report).toMatchObject({ rcode: 'NOERROR', answers: ['fd00::7'] });
  });

  it('gets NXDOMAIN for a name the policy blocks', async () => {
    const report = await probe('dns', ['blocked.test', '--server', `127.0.0.1:${resolver.port}`]);
    expect(report).toMatchObject({ rcode: 'NXDOMAIN', answers: [], rcode_counts: { NXDOMAIN: 1 } });
  });

  it('reports an attempt with no answer as an error and exits 3', async () => {
    const port = await closedPort();
    const report = await probe('dns', ['allowed.test', '--server', `127.0.0.1:${port}`, '--attempts', '2'], 3);
    expect(report).toMatchObject({ rcode: null, errors: 2, samples_ms: [], first_error: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('guest-bench probe connect-proxy', () => {
  it('times the 403 of a blocked CONNECT, and the upstream sees no connection', async () => {
    const connections = upstream.connections();
    const report = await probe('connect-proxy', [`127.0.0.1:${upstream.port}`, '--proxy', `127.0.0.1:${blockingProxy.port}`, '--attempts', '2']);
    expect(report).toMatchObject({ status: 403, status_counts: { '403': 2 }, errors: 0, attempts: 2 });
    expect(report.samples_ms).toHaveLength(2);
    expect(blockingProxy.stats().blocked).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(upstream.connections()).toBe(connections);
  });

  it('gets 200 through a proxy that allows it, and then the upstream does see the tunnel', async () => {
    const connections = upstream.connections();
    const report = await probe('connect-proxy', [`127.0.0.1:${upstream.port}`, '--proxy', `127.0.0.1:${openProxy.port}`]);
    expect(report).toMatchObject({ status: 200, status_counts: { '200': 1 } });
    expect(await waitUntil(() => upstream.connections() === connections + 1)).toBe(true);
  });
});

describe('guest-bench probe connect', () => {
  it('reports a refused port as ok false ECONNREFUSED and still exits 0', async () => {
    const port = await closedPort();
    const report = await probe('connect', [`127.0.0.1:${port}`, '--timeout-ms', '1000']);
    expect(report).toMatchObject({ ok: false, error: 'ECONNREFUSED', timeout_ms: 1000, attempts: 1 });
    expect(report.samples_ms).toEqual([report.ms]);
  });

  it('reports a listening port as ok', async () => {
    const report = await probe('connect', [`127.0.0.1:${upstream.port}`]);
    expect(report).toMatchObject({ ok: true, error: null });
  });
});

describe('guest-bench probe http', () => {
  it('GETs directly and through a proxy on a new connection each attempt, reading chunked bodies', async () => {
    const hits = upstream.hits('/chunked');
    const direct = await probe('http', [`${upstream.origin}/chunked`, '--attempts', '2']);
    expect(direct).toMatchObject({ status: 200, status_counts: { '200': 2 }, proxy: null, errors: 0 });
    const proxied = await probe('http', [`${upstream.origin}/chunked`, '--proxy', `127.0.0.1:${openProxy.port}`, '--attempts', '2']);
    expect(proxied).toMatchObject({ status: 200, status_counts: { '200': 2 }, proxy: `127.0.0.1:${openProxy.port}` });
    expect(upstream.hits('/chunked') - hits).toBe(4);
  });

  it('reports the status the server answered', async () => {
    const report = await probe('http', [`${upstream.origin}/nothing-here`]);
    expect(report).toMatchObject({ status: 404, status_counts: { '404': 1 } });
  });
});

describe('guest-bench probe raw', () => {
  it('sends each file as it is on a new connection and reports every status line, a CONNECT tunnel showing two', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-raw-'));
    try {
      writeFileSync(join(dir, 'get'), `GET ${upstream.origin}/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      const authority = `127.0.0.1:${upstream.port}`;
      writeFileSync(join(dir, 'tunnel'), `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nGET /chunked HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
      const hits = upstream.hits('/chunked');
      const report = await probe('raw', [`127.0.0.1:${openProxy.port}`, join(dir, 'get'), join(dir, 'tunnel'), join(dir, 'missing'), '--timeout-ms', '3000']);
      expect(report.exchanges.map((e) => [e.ok, e.status_lines])).toEqual([
        [true, ['HTTP/1.1 200 OK']],
        [true, ['HTTP/1.1 200 Connection Established', 'HTTP/1.1 200 OK']],
        [false, []],
      ]);
      expect(report.exchanges[2]!.error).toMatch(/ENOENT/);
      expect(upstream.hits('/chunked') - hits).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('guest-bench probe unix', () => {
  it('tells which unix sockets, by path or abstract name, accept a connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-unix-'));
    const abstract = `rigor-probe-${process.pid}`;
    const server = net.createServer();
    // Node 20 cannot listen on an abstract name; python3 can.
    const listener = execa('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind('\\0${abstract}')\ns.listen()\nprint('ready',flush=True)\nsys.stdin.read()`]);
    try {
      await new Promise<void>((resolve) => server.listen(join(dir, 'listening.sock'), resolve));
      await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
      const report = await probe('unix', [join(dir, 'listening.sock'), `@${abstract}`, join(dir, 'absent.sock'), `@${abstract}-absent`]);
      expect(report.sockets.map((s) => [s.connected, s.error])).toEqual([
        [true, null],
        [true, null],
        [false, 'ENOENT'],
        [false, 'ECONNREFUSED'],
      ]);
    } finally {
      server.close();
      listener.kill();
      await listener.catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('guest-bench probe usage', () => {
  it.each([
    [['dns', 'a.test'], '--server: expected IPv4:PORT, found nothing'],
    [['dns', 'a.test', '--server', '127.0.0.1:53', '--type', 'MX'], '--type: expected A or AAAA, found "MX"'],
    [['connect', 'localhost:80'], 'probe connect IP:PORT: expected IPv4:PORT, found "localhost:80"'],
    [['connect-proxy', 'example.com:443'], '--proxy: expected IPv4:PORT, found nothing'],
    [['http', 'http://example.com/'], 'probe http URL: expected http://IPv4[:PORT]/path (a numeric host: no DNS), found "http://example.com/"'],
    [['teleport'], 'probe: expected a probe kind: connect, dns, connect-proxy, http, raw or unix, found "teleport"'],
    [['raw', '127.0.0.1:1'], 'probe raw IP:PORT FILE...: expected at least one file of request bytes, found nothing'],
    [['unix'], 'probe unix PATH...: expected at least one socket path, found nothing'],
  ])('rejects probe %j: exit 2, nothing on stdout', async (args, message) => {
    const result = await execa(bin, ['probe', ...args], { reject: false, stdin: 'ignore' });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`guest-bench: ${message}`);
  });
});
