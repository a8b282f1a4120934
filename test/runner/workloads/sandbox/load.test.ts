/** sandbox.load: the values of a run (pure), what it can fill, and a small real run on the process backend. */
import { describe, expect, it } from 'vitest';
import { cannotFillLoad, loadProblems, loadWorkload, valuesOf } from '../../../../runner/workloads/sandbox/load.ts';
import { testCell } from '../../../helpers/cell-context.ts';

const counted = { kind: 'counted' as const, unit: 'n', better: 'lower' as const, clock: 'counted' };
const timed = { kind: 'timed' as const, unit: 'ms', better: 'lower' as const, clock: 'a -> b' };
const noLeaks = { processes: [], mounts: [], cgroups: [], temp_dirs: [], containers: [] };

describe('sandbox.load', () => {
  it('makes a run into counts, leaks by kind and percentiles of the successful lifecycles', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(valuesOf(latencies, 2, { ...noLeaks, mounts: ['m #1'], temp_dirs: ['/tmp/a', '/tmp/b'] })).toEqual({
      successes: 100,
      failures: 2,
      leaked_processes: 0,
      leaked_mounts: 1,
      leaked_cgroups: 0,
      leaked_temp_dirs: 2,
      leaked_containers: 0,
      lifecycle_p50_ms: 50.5,
      lifecycle_p99_ms: 99.01,
    });
  });

  it('fills its counts as counted metrics and its percentiles as timed ms, nothing else', () => {
    expect(cannotFillLoad(counted, { name: 'leaked_mounts' })).toBeNull();
    expect(cannotFillLoad(timed, { name: 'lifecycle_p99_ms' })).toBeNull();
    expect(cannotFillLoad(timed, { name: 'failures' })).toMatch(/counted metric/);
    expect(cannotFillLoad(counted, { name: 'lifecycle_p50_ms' })).toMatch(/timed metric in ms/);
    expect(cannotFillLoad(timed, { name: 'wall_ms' })).toMatch(/one of the metrics sandbox.load fills/);
  });

  it('refuses more in flight than lifecycles, naming both', () => {
    expect(loadProblems({ backend: 'process', lifecycles: 4, parallel: 8 })).toEqual(['params.parallel: expected at most lifecycles (4), found 8']);
  });

  it('runs 24 process lifecycles 8 at once: all succeed, nothing leaks', async () => {
    const metrics = {
      successes: { kind: 'counted', unit: 'lifecycles', clock: 'counted' },
      failures: { kind: 'counted', unit: 'lifecycles', clock: 'counted' },
      leaked_processes: { kind: 'counted', unit: 'processes', clock: 'counted' },
      leaked_temp_dirs: { kind: 'counted', unit: 'dirs', clock: 'counted' },
      lifecycle_p99_ms: {},
    } as const;
    const { ctx } = testCell({ workload: 'sandbox.load', params: { backend: 'process', lifecycles: 24, parallel: 8 }, sampling: { iterations: 1, timeout_s: 120 }, metrics });
    const result = await loadWorkload.run(ctx);
    expect(result.samples.successes).toEqual([24]);
    expect(result.samples.failures).toEqual([0]);
    expect(result.samples.leaked_processes).toEqual([0]);
    expect(result.samples.leaked_temp_dirs).toEqual([0]);
    const [run] = result.facts!.load_runs as { latencies_ms: number[] }[];
    expect(run!.latencies_ms).toHaveLength(24);
  });
});
