import { describe, expect, it } from 'vitest';
import { decideChange, DEFAULT_NOISE, judgeChange, noiseOf, worseningOf } from '../../../runner/compare/change.ts';
import { mannWhitneyU } from '../../../runner/stats/index.ts';
import { lognormalSamples } from '../../helpers/artifact-builder.ts';

const decide = (ratio: number | null, p: number, extra: Partial<Parameters<typeof decideChange>[0]> = {}) =>
  decideChange({ ratio, p, alpha: 0.05, noise: 0.02, better: 'lower', ...extra });

describe('decideChange', () => {
  it('calls a significant change beyond the noise threshold better or worse by the metric direction', () => {
    expect(decide(1.1, 0.001)).toEqual({ change: 'worse', reason: null });
    expect(decide(0.9, 0.001)).toEqual({ change: 'better', reason: null });
    expect(decide(0.9, 0.001, { better: 'higher' })).toEqual({ change: 'worse', reason: null });
  });

  it('calls a change same when p is not below alpha, whatever its size', () => {
    expect(decide(1.5, 0.05)).toEqual({ change: 'same', reason: 'not significant' });
    expect(decide(1.5, 0.28)).toEqual({ change: 'same', reason: 'not significant' });
  });

  it('calls a significant change within the noise threshold same, on both sides of 1 and at the threshold itself', () => {
    expect(decide(1.019, 0.0001)).toEqual({ change: 'same', reason: 'within noise' });
    expect(decide(0.981, 0.0001)).toEqual({ change: 'same', reason: 'within noise' });
    expect(decide(1.02, 0.0001)).toEqual({ change: 'same', reason: 'within noise' });
    expect(decide(1.0201, 0.0001).change).toBe('worse');
    expect(decide(1.005, 0.0001, { noise: 0 }).change).toBe('worse');
  });

  it('calls a change same when the statistic and the test point opposite ways', () => {
    expect(decide(1.5, 0.001, { shift: -1 })).toEqual({ change: 'same', reason: 'directions disagree' });
    expect(decide(1.5, 0.001, { shift: 1 }).change).toBe('worse');
  });

  it('takes the direction from the test when there is no ratio (a baseline statistic of 0)', () => {
    expect(decide(null, 0.001, { shift: 1 }).change).toBe('worse');
    expect(decide(null, 0.001, { shift: -1, better: 'higher' }).change).toBe('worse');
  });
});

describe('noiseOf and worseningOf', () => {
  it('defaults to 2% for a timed metric and 0 for a counted one; the rig can set it', () => {
    expect(DEFAULT_NOISE).toEqual({ timed: 0.02, counted: 0 });
    expect(noiseOf({})).toBe(0.02);
    expect(noiseOf({ kind: 'counted' })).toBe(0);
    expect(noiseOf({ noise: 0.05 })).toBe(0.05);
    expect(noiseOf({ kind: 'counted', noise: 0.001 })).toBe(0.001);
  });

  it('inverts B/A for a higher-is-better metric', () => {
    expect(worseningOf(1.25, 'lower')).toBe(1.25);
    expect(worseningOf(0.5, 'higher')).toBe(2);
  });
});

describe('judgeChange', () => {
  const a = lognormalSamples(30, 10, 0.02, 1);
  const b = lognormalSamples(30, 12, 0.02, 2);

  it('gives B/A of the statistic asked, its CI, and the Mann-Whitney p of the raw samples whatever the statistic', () => {
    const byMedian = judgeChange({ samples: a }, { samples: b }, { stat: 'median', better: 'lower', alpha: 0.05, noise: 0.02 });
    const byP95 = judgeChange({ samples: a }, { samples: b }, { stat: 'p95', better: 'lower', alpha: 0.05, noise: 0.02 });
    expect(byMedian).toMatchObject({ stat: 'median', change: 'worse', test: 'Mann-Whitney U' });
    expect(byMedian.ratio).toBeCloseTo(byMedian.candidate / byMedian.baseline, 12);
    expect(byMedian.ratio_ci95!.low).toBeLessThan(byMedian.ratio!);
    expect(byMedian.p_value).toBe(mannWhitneyU(a, b).p);
    expect(byP95.p_value).toBe(byMedian.p_value);
    expect(byP95.stat).toBe('p95');
    expect(byP95.ratio_ci95).toBeNull();
  });

  it('judges a batched metric by its slope on both sides', () => {
    const batches = [1, 2, 4, 8, 16];
    const judged = judgeChange(
      { samples: [1, 1, 1, 1, 1], batch_iterations: batches },
      { samples: [2, 2, 2, 2, 2], batch_iterations: batches },
      { stat: 'p95', better: 'lower', alpha: 0.05, noise: 0.02 },
    );
    expect(judged).toMatchObject({ stat: 'slope', baseline: 1, candidate: 2, ratio: 2 });
  });
});
