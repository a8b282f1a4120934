/** Ratios of two cells of one artifact, from raw samples. */
import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../../runner/artifact/schema.ts';
import { computeRatios } from '../../../runner/run/ratios.ts';
import { summarize } from '../../../runner/stats/index.ts';

function cell(id: string, params: Record<string, string>, metric: string, samples: number[], status: CellResult['status'] = 'ok'): CellResult {
  return {
    id,
    params,
    status,
    ...(status === 'ok' ? {} : { reason: 'bwrap not on PATH' }),
    concurrency: 1,
    warmup: 0,
    metrics: { [metric]: { unit: 'ms', better: 'lower', clock: 'a -> b', samples, summary: summarize(samples) } },
  };
}

const ratio = {
  name: 'launcher_over_bare',
  of: { metric: 'total_ms', where: { tool: 'ours' } },
  to: { metric: 'wall_ms', where: { tool: 'bare' } },
  goal: { max: 1.5 },
};

describe('computeRatios', () => {
  it('divides the medians, gives a bootstrap CI around the ratio, and judges the goal', () => {
    const bare = [4, 5, 6, 5, 5, 4.5, 5.5];
    const ours = bare.map((x) => x * 2);
    const [result] = computeRatios([ratio], [cell('tool=bare', { tool: 'bare' }, 'wall_ms', bare), cell('tool=ours', { tool: 'ours' }, 'total_ms', ours)]);
    expect(result!.ratio).toBeCloseTo(2, 10);
    expect(result!.ci95!.low).toBeLessThanOrEqual(2);
    expect(result!.ci95!.high).toBeGreaterThanOrEqual(2);
    expect(result!.goal_met).toBe(false);
    expect(result!.detail).toContain('goal ≤ 1.5×: missed by 1.33×');
    expect(result!.of).toEqual({ cell: 'tool=ours', metric: 'total_ms', unit: 'ms', median: 10 });
  });

  it('says why when a side was not measured', () => {
    const [result] = computeRatios([ratio], [cell('tool=bare', { tool: 'bare' }, 'wall_ms', [], 'skipped'), cell('tool=ours', { tool: 'ours' }, 'total_ms', [1, 2])]);
    expect(result!.ratio).toBeNull();
    expect(result!.goal_met).toBeNull();
    expect(result!.detail).toBe('not computed: tool=bare skipped: bwrap not on PATH');
  });
});
