/**
 * A bwrap, runc, gvisor, docker, podman or qemu sandbox with `egress` reaches
 * the host only through the proxy: all but qemu's own 127.0.0.1:3128 is relayed by the
 * agent to the proxy's unix socket; a qemu guest's 10.0.2.100:3128 is forwarded by qemu's
 * restricted user network to `rigor-agent --relay` on the host, joined to
 * the same socket. An allowed request arrives upstream, a blocked one gets
 * 403 and never does, and a direct connection finds nothing.
 */
import http from 'node:http';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { dockerBackend } from '../../../sandbox-core/backends/docker.ts';
import { gvisorBackend } from '../../../sandbox-core/backends/gvisor.ts';
import { podmanBackend } from '../../../sandbox-core/backends/podman.ts';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import { runcBackend } from '../../../sandbox-core/backends/runc.ts';
import type { Backend, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { startProxy, type RunningProxy } from '../../../sandbox-core/proxy/index.ts';

/** Larger than the relay's buffers and the socket buffers: the relay must wait for writes to drain. */
const BIG = 4 * 1024 * 1024;
let upstream: http.Server;
let upstreamPort: number;
let hits: string[] = [];
let connections = 0;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end(req.url === '/big' ? Buffer.alloc(BIG, 'x') : 'hello from the host\n');
  });
  upstream.on('connection', () => connections++);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
});

interface Case {
  backend: Backend;
  proxyUrl: string;
  /** Where the host's loopback would be, seen from inside, if anything were routed. */
  hostAddress: string;
  /** The routes the sandbox's own table may hold: none (bwrap) or the on-link egress subnet (qemu). */
  routes: number;
  timeoutMs: number;
}

const cases: Case[] = [
  { backend: bwrapBackend, proxyUrl: 'http://127.0.0.1:3128', hostAddress: '127.0.0.1', routes: 0, timeoutMs: 30_000 },
  { backend: runcBackend, proxyUrl: 'http://127.0.0.1:3128', hostAddress: '127.0.0.1', routes: 0, timeoutMs: 30_000 },
  { backend: gvisorBackend, proxyUrl: 'http://127.0.0.1:3128', hostAddress: '127.0.0.1', routes: 0, timeoutMs: 30_000 },
  { backend: dockerBackend, proxyUrl: 'http://127.0.0.1:3128', hostAddress: '127.0.0.1', routes: 0, timeoutMs: 120_000 },
  { backend: podmanBackend, proxyUrl: 'http://127.0.0.1:3128', hostAddress: '127.0.0.1', routes: 0, timeoutMs: 120_000 },
  // qemu's user network calls the host 10.0.2.2; restrict=on must make that (and everything but the guestfwds) unreachable.
  { backend: qemuBackend, proxyUrl: 'http://10.0.2.100:3128', hostAddress: '10.0.2.2', routes: 1, timeoutMs: 120_000 },
];

for (const c of cases) {
  const ready = await c.backend.available();
  describe.skipIf(!ready.ok)(`${c.backend.name} egress${ready.ok ? '' : ` (skipped: ${ready.reason})`}`, () => {
    const scratch = mkdtempSync(join(tmpdir(), `rigor-${c.backend.name}-egress-`));
    chmodSync(scratch, 0o711); // the sandbox's unprivileged uid must reach the sockets
    let proxy: RunningProxy;
    let sandbox: Sandbox;

    beforeAll(async () => {
      proxy = await startProxy({
        mode: 'tunnel',
        socketPath: join(scratch, 'proxy.sock'),
        decide: (request) => (request.path.startsWith('/blocked') ? { decision: 'block', ruleId: 'no-blocked' } : { decision: 'allow', ruleId: null }),
      });
      sandbox = await c.backend.create({ egress: { proxySocket: join(scratch, 'proxy.sock') } });
    }, c.timeoutMs);

    afterAll(async () => {
      await sandbox?.destroy();
      await proxy?.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    // No -T: busybox wget's -T crashes (SIGSEGV) in the qemu guest; the exec timeout bounds it instead.
    const wget = (...args: string[]) => sandbox.exec({ argv: ['wget', '-q', '-O', '-', ...args], timeoutMs: 15_000 });

    it('an allowed request goes through the proxy to the host upstream', async () => {
      hits = [];
      const env = await sandbox.exec({ argv: ['sh', '-c', 'echo "$http_proxy $HTTPS_PROXY"'] });
      expect(env.stdout.toString()).toBe(`${c.proxyUrl} ${c.proxyUrl}\n`);
      const result = await wget(`http://127.0.0.1:${upstreamPort}/allowed`);
      expect(result.stderr.toString()).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout.toString()).toBe('hello from the host\n');
      expect(hits).toEqual(['/allowed']);
      expect(proxy.stats().allowed).toBeGreaterThanOrEqual(1);
    });

    it('a large response arrives whole through the relay', async () => {
      const result = await sandbox.exec({ argv: ['sh', '-c', `wget -q -O - http://127.0.0.1:${upstreamPort}/big | wc -c`], timeoutMs: 30_000 });
      expect(result.stdout.toString().trim()).toBe(String(BIG));
    });

    it('several connections at once are relayed independently', async () => {
      hits = [];
      const script = `for i in 1 2 3 4 5 6; do wget -q -O - http://127.0.0.1:${upstreamPort}/many$i > out$i & done; wait; cat out1 out2 out3 out4 out5 out6 | wc -l`;
      const result = await sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 30_000 });
      expect(result.stdout.toString().trim()).toBe('6');
      expect(hits.sort()).toEqual(['/many1', '/many2', '/many3', '/many4', '/many5', '/many6']);
    });

    it('a blocked request gets 403 and never reaches the upstream', async () => {
      hits = [];
      const blockedBefore = proxy.stats().blocked;
      const result = await wget('-S', `http://127.0.0.1:${upstreamPort}/blocked`);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/HTTP\/1\.1 403/);
      expect(hits).toEqual([]);
      expect(proxy.stats().blocked).toBe(blockedBefore + 1);
    });

    it('without the proxy there is no way out: the host port is not reachable and nothing else is routed', async () => {
      hits = [];
      const connectionsBefore = connections;
      const direct = await wget('-Y', 'off', `http://${c.hostAddress}:${upstreamPort}/direct`);
      expect(direct.exitCode).not.toBe(0);
      const nc = await sandbox.exec({ argv: ['busybox', 'nc', '-w', '2', c.hostAddress, String(upstreamPort)], stdin: 'GET / HTTP/1.0\r\n\r\n', timeoutMs: 10_000 });
      expect(nc.exitCode).not.toBe(0);
      expect(nc.stdout.toString()).toBe('');
      // The sandbox's own view (/proc/net is per network namespace): no default route, one link besides lo at most.
      const routes = await sandbox.exec({ argv: ['cat', '/proc/net/route'] });
      const table = routes.stdout.toString().trim().split('\n').slice(1);
      expect(table).toHaveLength(c.routes);
      for (const line of table) expect(line.split(/\s+/)[1]).not.toBe('00000000'); // destination 0.0.0.0 = a default route
      expect(hits).toEqual([]);
      expect(connections).toBe(connectionsBefore);
    });
  });
}

it.skipIf(!(await bwrapBackend.available()).ok)('bwrap refuses egress with the Node agent, which cannot relay', async () => {
  await expect(bwrapBackend.create({ agent: 'node', egress: { proxySocket: '/nonexistent/proxy.sock' } })).rejects.toThrow(/egress: needs the native agent/);
});

it.skipIf(!(await runcBackend.available()).ok)('runc refuses egress with the Node agent, and a socket it cannot bind, before anything runs', async () => {
  await expect(runcBackend.create({ agent: 'node', egress: { proxySocket: '/nonexistent/proxy.sock' } })).rejects.toThrow(/egress: needs the native agent/);
  await expect(runcBackend.create({ egress: { proxySocket: 'relative.sock' } })).rejects.toThrow(/egress.proxySocket: expected an absolute path/);
});
