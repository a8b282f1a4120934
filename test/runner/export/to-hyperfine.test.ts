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

  it('writes one result per cell and time metric with every field hyperfine writes, times in seconds; CPU time is its user, not a result', () => {
    const { export: out } = toHyperfine(artifact);
    expect(out.results.map((r) => r.command)).toEqual(['startup/program=true,cache=warm']);
    const wall = out.results[0]!;
    expect(Object.keys(wall)).toEqual(['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max', 'times', 'exit_codes', 'parameters']);
    expect(wall.times).toEqual([0.001, 0.002, 0.003, 0.01]);
    expect(wall.mean).toBeCloseTo(0.004, 15);
    // sample standard deviation (n − 1), as hyperfine: deviations −3, −2, −1, 6 ms → √(50/3) ms
    expect(wall.stddev).toBeCloseTo(Math.sqrt(50 / 3) / 1000, 15);
    expect(wall.median).toBeCloseTo(0.0025, 15);
    expect([wall.min, wall.max]).toEqual([0.001, 0.01]);
    expect(wall.user).toBeCloseTo(0.0005, 15);
    // no sys_ms in this rig: null, and a note says what would fill it
    expect(wall.system).toBeNull();
    expect(toHyperfine(artifact).notes).toEqual([expect.stringMatching(/^system: null where a cell has no sys_ms samples \(declare sys_ms in the rig/)]);
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

  it("names a command cell by its command as a shell would run it, and takes system time from sys_ms", () => {
    const run = buildArtifact({
      rig: 'gzip',
      metrics: { wall_ms: COMMAND_METRICS.wall_ms, user_ms: COMMAND_METRICS.user_ms, sys_ms: { ...COMMAND_METRICS.user_ms, clock: 'child started -> child reaped (rusage system)' } },
      cells: [
        { params: { level: 1 }, samples: { wall_ms: [10, 12], user_ms: [8, 10], sys_ms: [1, 3] } },
        { params: { level: 9 }, samples: { wall_ms: [30, 34], user_ms: [28, 30], sys_ms: [2, 2] } },
      ],
    });
    run.rig.definition.params = { run: ['gzip', '-{level}', '-c', "it's here.txt"] };
    const { export: out, notes } = toHyperfine(run);
    expect(out.results.map((r) => [r.command, r.user, r.system, r.parameters])).toEqual([
      ["gzip -1 -c 'it'\\''s here.txt'", 0.009, 0.002, { level: '1' }],
      ["gzip -9 -c 'it'\\''s here.txt'", 0.029, 0.002, { level: '9' }],
    ]);
    expect(notes).toEqual([]);
  });
});
