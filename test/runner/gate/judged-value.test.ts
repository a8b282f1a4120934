/** What a gate judges in a metric: the slope of a batched metric, the gate's statistic otherwise; through evaluateGates too. */
import { describe, expect, it } from 'vitest';
import { evaluateGates } from '../../../runner/gate/evaluate.ts';
import { judgedRatioCI, judgedValue } from '../../../runner/gate/judged-value.ts';
import type { RigInput } from '../../../runner/rig/schema.ts';
import { bootstrapRatioCI } from '../../../runner/stats/index.ts';
import { buildArtifact, lognormalSamples, TIME_MS } from '../../helpers/artifact-builder.ts';

// Batches of 10, 20, 30 calls taking 2, 5 and 5 ms: per call 0.2, 0.25, 1/6 ms (median 0.2);
// slope Σxy / Σx² = (20 + 100 + 150) / (100 + 400 + 900) = 27/140 ≈ 0.1929 ms.
const BATCHES = [10, 20, 30];
const PER_CALL = [0.2, 0.25, 5 / 30];
const batched = { samples: PER_CALL, batch_iterations: BATCHES };

describe('judgedValue', () => {
  it('is the slope of a batched metric, whatever the gate asks for', () => {
    for (const stat of ['median', 'p95', 'min'] as const) {
      const judged = judgedValue(batched, stat);
      expect(judged.stat).toBe('slope');
      expect(judged.value).toBeCloseTo(27 / 140, 14);
    }
  });

  it("is the gate's statistic of the samples otherwise", () => {
    expect(judgedValue({ samples: [3, 1, 2] }, 'median')).toEqual({ stat: 'median', value: 2 });
    expect(judgedValue({ samples: [3, 1, 2] }, 'max')).toEqual({ stat: 'max', value: 3 });
  });
});

describe('judgedRatioCI', () => {
  it('bootstraps the ratio of slopes when both sides are batched', () => {
    const x = [4, 8, 12, 16];
    expect(judgedRatioCI({ samples: [0.5, 0.5, 0.5, 0.5], batch_iterations: x }, { samples: [1.5, 1.5, 1.5, 1.5], batch_iterations: x }, 'median')).toEqual({ low: 3, high: 3 });
  });

  it('gives none when one side is batched and the other not, or for a statistic the bootstrap lacks', () => {
    expect(judgedRatioCI(batched, { samples: PER_CALL }, 'median')).toBeNull();
    expect(judgedRatioCI({ samples: [1, 2, 3] }, { samples: [2, 3, 4] }, 'p95')).toBeNull();
  });

  it('is the ratio of medians or means of unbatched samples', () => {
    const base = [1, 2, 3, 4];
    const cand = [2, 3, 4, 5];
    expect(judgedRatioCI({ samples: base }, { samples: cand }, 'median')).toEqual(bootstrapRatioCI(base, cand, 'median'));
    expect(judgedRatioCI({ samples: base }, { samples: cand }, 'mean')).toEqual(bootstrapRatioCI(base, cand, 'mean'));
  });
});

describe('gates on a batched metric', () => {
  const artifact = (gates: RigInput['gates'], perCall: number[], batches: number[]) =>
    buildArtifact({ metrics: TIME_MS, gates, cells: [{ params: { task: 'x' }, samples: { time_ms: perCall }, batches: { time_ms: batches } }] });

  it('judge the slope, not the median of the batches, and say so', () => {
    // The median per call (0.2 ms) is over the bound; the slope (0.193 ms) is not.
    const gates = [{ metric: 'time_ms', stat: 'median' as const, max: 0.195 }];
    const candidate = artifact(gates, PER_CALL, BATCHES);
    const [result] = evaluateGates(candidate.rig.definition.gates, TIME_MS, candidate);
    expect(result).toMatchObject({ stat: 'slope', verdict: 'pass', detail: 'slope 0.193 ms within max 0.195 ms → pass' });
    expect(result!.value).toBeCloseTo(27 / 140, 14);
  });

  it('compare slopes against a baseline', () => {
    const gates = [{ metric: 'time_ms', stat: 'median' as const, max_ratio: 1.1 }];
    const sizes = Array.from({ length: 30 }, (_, i) => (i + 1) * 50);
    const perCall = lognormalSamples(30, 0.001, 0.05, 7);
    const baseline = artifact(gates, perCall, sizes);
    const candidate = artifact(gates, perCall.map((t) => 2 * t), sizes);
    const [result] = evaluateGates(candidate.rig.definition.gates, TIME_MS, candidate, baseline);
    expect(result).toMatchObject({ stat: 'slope', verdict: 'fail' });
    expect(result!.ratio).toBeCloseTo(2, 12);
    expect(result!.ratio_ci95!.low).toBeGreaterThan(1.1);
    expect(result!.detail).toMatch(/^slope .* ms vs .* ms: 2\.00× \[.*\], p < 0\.0001 \(Mann-Whitney U\) → worse; 2\.00× > 1\.1× → regression$/);
  });
});
