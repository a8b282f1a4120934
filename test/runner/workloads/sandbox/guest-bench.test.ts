/**
 * sandbox.guest-bench: the real tool written into real sandboxes and run
 * through the agent; every report is kept and valid, every metric comes
 * from it, and a backend without egress says which sections it skipped.
 */
import { describe, expect, it } from 'vitest';
import { GuestBenchReport } from '../../../../guest-bench/schema.ts';
import { guestBenchWorkload } from '../../../../runner/workloads/sandbox/guest-bench.ts';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { testCell } from '../../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

const metrics = Object.fromEntries(
  ['disk_write_mib_s', 'disk_read_mib_s', 'disk_rand_write_p50_ms', 'disk_rand_read_p50_ms', 'rootfs_walk_entries_s', 'rootfs_small_files_s', 'rootfs_large_mib_s', 'startup_sh_p50_ms', 'http_p50_ms', 'http_requests_s', 'download_mib_s'].map((name) => [name, {}]),
);
const small = { disk_mib: 2, random_ops: 8, max_walk: 500, small_files: 20, startup_runs: 2, requests: 20, concurrency: 2, download_mib: 1 };
const runc = await runcBackend.available();

describe('sandbox.guest-bench', () => {
  it('checks its params, naming each', () => {
    expect(paramProblemsOf(guestBenchWorkload, { backend: 'process', disk_mib: 0, cache_drop: 'all', walk_root: 'usr' })).toEqual([
      'params.disk_mib: expected a whole number >= 1, found 0',
      'params.cache_drop: expected one of auto, fadvise, none, found "all"',
      'params.walk_root: expected an absolute path, found "usr"',
    ]);
  });

  it('process: one run per sample through the proxy to the loopback upstream, every report valid and kept', async () => {
    const { ctx } = testCell({ workload: 'sandbox.guest-bench', params: { backend: 'process', ...small }, sampling: { warmup: 0, iterations: 2, timeout_s: 60 }, metrics });
    const result = await guestBenchWorkload.run(ctx);
    for (const name of ['disk_write_mib_s', 'disk_rand_read_p50_ms', 'rootfs_walk_entries_s', 'startup_sh_p50_ms', 'http_p50_ms', 'download_mib_s']) expect(result.samples[name], name).toHaveLength(2);
    const reports = (result.facts!.reports as unknown[]).map((report) => GuestBenchReport.parse(report));
    expect(reports).toHaveLength(2);
    const http = reports[0]!.sections.http;
    expect(http).toMatchObject({ requests: 20, concurrency: 2, status_counts: { 200: 20 }, errors: 0 });
    expect(result.samples.http_p50_ms![0]).toBe('p50' in http ? http.p50 : NaN);
    expect(result.facts!.proxy).toMatchObject({ allowed: 2 * (20 + 1) });
    expect(result.facts!.cache_drop).toMatchObject({ method: 'fadvise' });
    expect(liveSandboxes()).toHaveLength(0);
  }, 60_000);

  it.skipIf(!runc.ok)('runc: http and throughput through its egress path, the proxy the only way out', async () => {
    const { ctx } = testCell({ workload: 'sandbox.guest-bench', params: { backend: 'runc', ...small, walk_root: '/' }, sampling: { warmup: 0, iterations: 1, timeout_s: 60 }, metrics });
    const result = await guestBenchWorkload.run(ctx);
    expect(result.samples.disk_write_mib_s).toHaveLength(1);
    expect(result.samples.http_p50_ms).toHaveLength(1);
    expect(result.samples.download_mib_s).toHaveLength(1);
    expect(result.facts!.skipped_sections).toEqual({});
    const [report] = (result.facts!.reports as unknown[]).map((r) => GuestBenchReport.parse(r));
    expect(report!.sections.http).toMatchObject({ requests: 20, status_counts: { 200: 20 }, errors: 0 });
    expect(result.facts!.proxy).toMatchObject({ allowed: 20 + 1 });
  }, 60_000);
});
