/** Ratios of two cells of one artifact, from raw samples. */
import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../../runner/artifact/schema.ts';
import { computeRatios } from '../../../runner/run/ratios.ts';
import { summarize, summarizeBatches } from '../../../runner/stats/index.ts';

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

  it('divides the slopes when both sides are batched micro-benchmarks', () => {
    // Batches of 10, 20, 30 calls at 0.2, 0.25, 1/6 ms a call: slope 27/140 ms (median 0.2); the other side 3× that.
    const batched = (id: string, params: Record<string, string>, metric: string, perCall: number[]): CellResult => {
      const base = cell(id, params, metric, perCall);
      const iterations = [10, 20, 30];
      base.metrics[metric] = { ...base.metrics[metric]!, batch_iterations: iterations, slope: summarizeBatches(iterations, perCall) };
      return base;
    };
    const perCall = [0.2, 0.25, 5 / 30];
    const [result] = computeRatios(
      [{ ...ratio, goal: { max: 4 } }],
      [batched('tool=bare', { tool: 'bare' }, 'wall_ms', perCall), batched('tool=ours', { tool: 'ours' }, 'total_ms', perCall.map((t) => 3 * t))],
    );
    expect(result!.stat).toBe('slope');
    expect(result!.to.slope).toBeCloseTo(27 / 140, 14);
    expect(result!.to.median).toBeCloseTo(0.2, 14);
    expect(result!.ratio).toBeCloseTo(3, 12);
    expect(result!.ci95!.low).toBeLessThanOrEqual(3);
    expect(result!.ci95!.high).toBeGreaterThanOrEqual(3);
    expect(result!.goal_met).toBe(true);
    expect(result!.detail).toMatch(/^slopes 0\.579 ms \/ 0\.193 ms = 3\.00× \(CI /);
  });

  it('says why when a side was not measured', () => {
    const [result] = computeRatios([ratio], [cell('tool=bare', { tool: 'bare' }, 'wall_ms', [], 'skipped'), cell('tool=ours', { tool: 'ours' }, 'total_ms', [1, 2])]);
    expect(result!.ratio).toBeNull();
    expect(result!.goal_met).toBeNull();
    expect(result!.detail).toBe('not computed: tool=bare skipped: bwrap not on PATH');
  });
});
