/**
 * A bwrap sandbox with `egress` reaches the host only through the proxy: its
 * own 127.0.0.1:3128 is relayed by the agent to the proxy's unix socket, an
 * allowed request arrives upstream, a blocked one gets 403 and never does,
 * and a direct connection finds nothing (the namespace has no route out).
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { startProxy, type RunningProxy } from '../../../sandbox-core/proxy/index.ts';

const bwrapReady = await bwrapBackend.available();
const scratch = mkdtempSync(join(tmpdir(), 'rigor-bwrap-egress-'));
/** Larger than the relay's buffers and the socket buffers: the relay must wait for writes to drain. */
const BIG = 4 * 1024 * 1024;
let upstream: http.Server;
let upstreamPort: number;
let hits: string[] = [];
let proxy: RunningProxy;
let sandbox: Sandbox | undefined;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end(req.url === '/big' ? Buffer.alloc(BIG, 'x') : 'hello from the host\n');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = await startProxy({
    mode: 'tunnel',
    socketPath: join(scratch, 'proxy.sock'),
    decide: (request) => (request.path.startsWith('/blocked') ? { decision: 'block', ruleId: 'no-blocked' } : { decision: 'allow', ruleId: null }),
  });
  if (bwrapReady.ok) sandbox = await bwrapBackend.create({ egress: { proxySocket: join(scratch, 'proxy.sock') } });
});

afterAll(async () => {
  await sandbox?.destroy();
  await proxy?.close();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

const wget = (...args: string[]) => sandbox!.exec({ argv: ['wget', '-q', '-T', '5', '-t', '1', '-O', '-', ...args], timeoutMs: 15_000 });

it.skipIf(!bwrapReady.ok)('an allowed request goes through the proxy to the host upstream', async () => {
  hits = [];
  const env = await sandbox!.exec({ argv: ['sh', '-c', 'echo "$http_proxy $HTTPS_PROXY"'] });
  expect(env.stdout.toString()).toBe('http://127.0.0.1:3128 http://127.0.0.1:3128\n');
  const result = await wget(`http://127.0.0.1:${upstreamPort}/allowed`);
  expect(result.stderr.toString()).toBe('');
  expect(result.exitCode).toBe(0);
  expect(result.stdout.toString()).toBe('hello from the host\n');
  expect(hits).toEqual(['/allowed']);
  expect(proxy.stats().allowed).toBeGreaterThanOrEqual(1);
});

it.skipIf(!bwrapReady.ok)('a large response arrives whole through the relay', async () => {
  const result = await sandbox!.exec({ argv: ['sh', '-c', `wget -q -T 5 -t 1 -O - http://127.0.0.1:${upstreamPort}/big | wc -c`], timeoutMs: 15_000 });
  expect(result.stdout.toString().trim()).toBe(String(BIG));
});

it.skipIf(!bwrapReady.ok)('a blocked request gets 403 and never reaches the upstream', async () => {
  hits = [];
  const blockedBefore = proxy.stats().blocked;
  const result = await wget('-S', `http://127.0.0.1:${upstreamPort}/blocked`);
  expect(result.exitCode).not.toBe(0);
  expect(result.stderr.toString()).toMatch(/HTTP\/1\.1 403/);
  expect(hits).toEqual([]);
  expect(proxy.stats().blocked).toBe(blockedBefore + 1);
});

it.skipIf(!bwrapReady.ok)('without the proxy there is no way out: no route, and the host port is not reachable', async () => {
  hits = [];
  const direct = await wget('--no-proxy', `http://127.0.0.1:${upstreamPort}/direct`);
  expect(direct.exitCode).not.toBe(0);
  const nc = await sandbox!.exec({ argv: ['busybox', 'nc', '-w', '2', '127.0.0.1', String(upstreamPort)], stdin: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10_000 });
  expect(nc.exitCode).not.toBe(0);
  expect(nc.stdout.toString()).toBe('');
  // The namespace's own view (/proc/net is per namespace; /sys is the host's): the main table has no route, lo is the only link.
  const routes = await sandbox!.exec({ argv: ['cat', '/proc/net/route'] });
  expect(routes.stdout.toString().trim().split('\n')).toHaveLength(1);
  const links = await sandbox!.exec({ argv: ['sh', '-c', "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"] });
  expect(links.stdout.toString()).toBe('lo\n');
  expect(hits).toEqual([]);
});

it.skipIf(!bwrapReady.ok)('refuses egress with the Node agent, which cannot relay', async () => {
  await expect(bwrapBackend.create({ agent: 'node', egress: { proxySocket: join(scratch, 'proxy.sock') } })).rejects.toThrow(/egress: needs the native agent/);
});
