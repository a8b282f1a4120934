import { describe, expect, it } from 'vitest';
import { toHyperfine } from '../../../runner/export/to-hyperfine.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const COMMAND_METRICS = {
  wall_ms: { unit: 'ms', better: 'lower' as const, clock: 'fork requested -> child reaped' },
  user_ms: { unit: 'ms', better: 'lower' as const, clock: 'child started -> child reaped (rusage user)' },
  peak_mib: { unit: 'MiB', better: 'lower' as const, clock: 'child started -> child reaped (maxrss)' },
};

describe('toHyperfine', () => {
  const artifact = buildArtifact({
    rig: 'startup',
    metrics: COMMAND_METRICS,
    cells: [
      { params: { program: 'true', cache: 'warm' }, samples: { wall_ms: [1, 2, 3, 10], user_ms: [0.5, 0.5, 0.5, 0.5], peak_mib: [3, 3, 3, 3] } },
      { params: { program: 'node', cache: 'warm' }, status: 'failed', reason: 'exited 1' },
    ],
  });

  it('writes one result per cell and time metric with every field hyperfine writes, times in seconds', () => {
    const { export: out } = toHyperfine(artifact);
    expect(out.results.map((r) => r.command)).toEqual(['startup/program=true,cache=warm [wall_ms]', 'startup/program=true,cache=warm [user_ms]']);
    const wall = out.results[0]!;
    expect(Object.keys(wall)).toEqual(['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max', 'times', 'exit_codes', 'parameters']);
    expect(wall.times).toEqual([0.001, 0.002, 0.003, 0.01]);
    expect(wall.mean).toBeCloseTo(0.004, 15);
    // sample standard deviation (n − 1), as hyperfine: deviations −3, −2, −1, 6 ms → √(50/3) ms
    expect(wall.stddev).toBeCloseTo(Math.sqrt(50 / 3) / 1000, 15);
    expect(wall.median).toBeCloseTo(0.0025, 15);
    expect([wall.min, wall.max]).toEqual([0.001, 0.01]);
    expect(wall.user).toBeCloseTo(0.0005, 15);
    expect(wall.system).toBeNull();
    // the command workload fails a cell on any exit but the expected one (0 by default)
    expect(wall.exit_codes).toEqual([0, 0, 0, 0]);
    expect(wall.parameters).toEqual({ program: 'true', cache: 'warm' });
  });

  it('skips metrics that are not times, saying why', () => {
    const { skipped } = toHyperfine(artifact);
    expect(skipped).toEqual([expect.stringMatching(/^metric peak_mib: unit MiB is not a time/)]);
  });

  it('gives null stddev for one run, and null exit codes where no process exit was observed', () => {
    const single = buildArtifact({ cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: [4] } }] });
    single.rig.definition.workload = 'sandbox.lifecycle';
    const [result] = toHyperfine(single).export.results;
    expect(result).toMatchObject({ command: 'synthetic/backend=bwrap', stddev: null, median: 0.004, exit_codes: [null], user: null, system: null });
  });
});
