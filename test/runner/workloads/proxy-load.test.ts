import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { proxyLoadWorkload } from '../../../runner/workloads/proxy-load.ts';
import { startMitmdump } from '../../../runner/loopback/mitmdump.ts';
import { startLoopbackUpstream } from '../../../runner/loopback/upstream.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { groupMembers, isAlive } from '../../helpers/processes.ts';
import { paramProblemsOf } from '../../helpers/param-problems.ts';

const metrics = { latency_ms: { clock: 'get called -> last byte read' }, throughput_mib_s: { unit: 'MiB/s', better: 'higher' as const, clock: 'get called -> last byte read' } };

const hasMitmdump = (() => {
  try {
    execFileSync('mitmdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Live processes whose command line holds `marker`. */
function running(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) && isAlive(Number(pid));
      } catch {
        return false;
      }
    })
    .map(Number);
}

const confdirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('rigor-mitmdump-'));

describe('proxy.load workload', () => {
  it('rejects unknown paths and kinds, and asks for mitmdump only on mitmproxy cells', () => {
    expect(paramProblemsOf(proxyLoadWorkload, { path: 'socks' })).toEqual(['params.path: expected one of direct, tunnel, intercept, mitmproxy, found "socks"']);
    expect(paramProblemsOf(proxyLoadWorkload, { path: 'direct', kind: 'upload', download_mib: 0 })).toEqual([
      'params.kind: expected one of latency, download, found "upload"',
      'params.download_mib: expected a whole number of MiB (>= 1), found 0',
    ]);
    expect(proxyLoadWorkload.requirements!({ path: 'mitmproxy' })).toEqual([{ binary: 'mitmdump' }]);
    expect(proxyLoadWorkload.requirements!({ path: 'intercept' })).toEqual([]);
  });

  for (const path of ['direct', 'intercept'] as const) {
    it(`times small GETs ${path} at concurrency 4 and a download, and stops the servers it started`, async () => {
      const servers = running('loopback/serve.ts');
      const { ctx } = testCell({ workload: 'proxy.load', params: { path }, sampling: { warmup: 4, iterations: 20, concurrency: 4 }, metrics });
      const result = await proxyLoadWorkload.run(ctx);
      expect(result.samples.latency_ms).toHaveLength(20);
      expect(result.samples.latency_ms!.every((ms) => ms > 0 && ms < 5000)).toBe(true);
      expect(result.facts).toMatchObject({ path, kind: 'latency', requests_completed: 20, upstream_requests: 24 });
      expect(result.facts!.requests_per_s).toBeGreaterThan(0);
      // Intercepted: four kept-alive connections, each one CONNECT terminated by our proxy, carried all 24 requests.
      if (path === 'intercept') expect(result.facts!.proxy).toMatchObject({ intercepted: 4, allowed: 24 });

      const download = testCell({ workload: 'proxy.load', params: { path, kind: 'download', download_mib: 4 }, sampling: { warmup: 0, iterations: 2 }, metrics });
      const downloaded = await proxyLoadWorkload.run(download.ctx);
      expect(downloaded.samples.throughput_mib_s).toHaveLength(2);
      expect(downloaded.samples.latency_ms).toBeUndefined();
      expect(downloaded.facts).toMatchObject({ download_bytes: 4 * 1024 * 1024, upstream_requests: 2 });
      expect(running('loopback/serve.ts').filter((pid) => !servers.includes(pid))).toEqual([]);
    });
  }

  it('mitmproxy cells start mitmdump, get answers through it, and leave no process or confdir behind', async ({ skip }) => {
    skip(!hasMitmdump, 'mitmdump is not installed (apt-get install mitmproxy)');
    const before = { pids: running('rigor-mitmdump-'), dirs: confdirs() };
    const { ctx } = testCell({ workload: 'proxy.load', params: { path: 'mitmproxy' }, sampling: { warmup: 1, iterations: 5, concurrency: 2 }, metrics });
    const result = await proxyLoadWorkload.run(ctx);
    expect(result.samples.latency_ms).toHaveLength(5);
    expect(result.tools?.mitmdump).toMatch(/^\d+\.\d+/);
    expect(running('rigor-mitmdump-').filter((pid) => !before.pids.includes(pid))).toEqual([]);
    expect(confdirs().filter((dir) => !before.dirs.includes(dir))).toEqual([]);
  }, 60_000);

  it('startMitmdump: stop() ends its whole process group and removes its confdir, also when the cell is interrupted', async ({ skip }) => {
    skip(!hasMitmdump, 'mitmdump is not installed (apt-get install mitmproxy)');
    const upstream = await startLoopbackUpstream();
    try {
      const before = confdirs();
      const mitm = await startMitmdump(upstream.caFile);
      expect(isAlive(mitm.pid)).toBe(true);
      expect(mitm.caPem).toContain('BEGIN CERTIFICATE');
      expect(confdirs().length).toBe(before.length + 1);
      await mitm.stop();
      expect(isAlive(mitm.pid)).toBe(false);
      expect(groupMembers(mitm.pid)).toEqual([]);
      expect(confdirs()).toEqual(before);

      const before2 = { pids: running('rigor-mitmdump-'), dirs: confdirs() };
      const cell = testCell({ workload: 'proxy.load', params: { path: 'mitmproxy' }, sampling: { warmup: 0, iterations: 100_000 }, metrics });
      cell.ctx.progress = (p) => p.done >= 10 && cell.abort();
      const interrupted = await proxyLoadWorkload.run(cell.ctx);
      expect(interrupted.truncated).toBe('interrupted');
      expect(interrupted.samples.latency_ms!.length).toBeGreaterThanOrEqual(10);
      expect(running('rigor-mitmdump-').filter((pid) => !before2.pids.includes(pid))).toEqual([]);
      expect(confdirs().filter((dir) => !before2.dirs.includes(dir))).toEqual([]);
    } finally {
      await upstream.close();
    }
  }, 60_000);

});
