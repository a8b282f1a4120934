/** The slope of batch time over calls per batch, its R² and its bootstrap CI, against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_SEED } from '../../../runner/stats/bootstrap.ts';
import { createRng } from '../../../runner/stats/random.ts';
import {
  batchTimes,
  bootstrapSlopeCI,
  bootstrapSlopeRatioCI,
  rSquared,
  slopeThroughOrigin,
  summarizeBatches,
} from '../../../runner/stats/slope.ts';

describe('slopeThroughOrigin and rSquared', () => {
  it('fit (1, 2), (2, 5), (3, 5) as worked out by hand', () => {
    // β = Σxy / Σx² = (2 + 10 + 15) / (1 + 4 + 9) = 27/14.
    const x = [1, 2, 3];
    const y = [2, 5, 5];
    const slope = slopeThroughOrigin(x, y);
    expect(slope).toBeCloseTo(27 / 14, 14);
    // Residuals 2 − 27/14 = 1/14, 5 − 54/14 = 16/14, 5 − 81/14 = −11/14: SS_res = 378/196 = 27/14.
    // ȳ = 4: SS_tot = 4 + 1 + 1 = 6. R² = 1 − (27/14)/6 = 57/84.
    expect(rSquared(x, y, slope)).toBeCloseTo(57 / 84, 14);
  });

  it('give the exact slope and R² = 1 on a straight line, and no R² when every batch took the same time', () => {
    const x = [3, 6, 9, 12];
    expect(slopeThroughOrigin(x, x.map((xi) => 2.5 * xi))).toBe(2.5);
    expect(rSquared(x, x.map((xi) => 2.5 * xi), 2.5)).toBe(1);
    expect(rSquared([1, 2], [4, 4], slopeThroughOrigin([1, 2], [4, 4]))).toBeNull();
  });

  it('refuse batches that do not pair up', () => {
    expect(() => slopeThroughOrigin([1, 2], [1])).toThrow('batches: expected as many iterations as times, found 2 and 1');
    expect(() => slopeThroughOrigin([], [])).toThrow('batches: expected at least one batch, found none');
    expect(() => slopeThroughOrigin([1, 0], [1, 1])).toThrow('batches: iterations[1]: expected a count > 0, found 0');
    expect(() => slopeThroughOrigin([1, 2], [1, Number.NaN])).toThrow('batches: times[1]: expected a finite number, found NaN');
  });
});

describe('bootstrapSlopeCI', () => {
  it('spans the resample slopes of two batches, enumerated by hand', () => {
    // Batches (1, 3) and (2, 8). A resample of two is {1,1} → 6/2 = 3, {2,2} → 32/8 = 4, or one of each
    // → (3 + 16)/(1 + 4) = 3.8, with probability 1/4, 1/4, 1/2: ~500 of 2000 resamples at each end,
    // so the 2.5% and 97.5% percentiles are 3 and 4.
    expect(bootstrapSlopeCI([1, 2], [3, 8])).toEqual({ low: 3, high: 4 });
  });

  it('collapses to the slope when every batch lies on the line', () => {
    const x = [10, 20, 30, 40, 50];
    expect(bootstrapSlopeCI(x, x.map((xi) => 0.75 * xi))).toEqual({ low: 0.75, high: 0.75 });
  });

  it('is the slope of the resample the seeded draws pick, with one resample', () => {
    const x = [5, 10, 15, 20, 25];
    const y = [6, 9.5, 16, 21, 30];
    const rng = createRng(BOOTSTRAP_SEED);
    const picked = x.map(() => Math.floor(rng() * x.length));
    const expected = picked.reduce((s, j) => s + x[j]! * y[j]!, 0) / picked.reduce((s, j) => s + x[j]! ** 2, 0);
    const ci = bootstrapSlopeCI(x, y, { resamples: 1 });
    expect(ci!.low).toBeCloseTo(expected, 12);
    expect(ci!.high).toBeCloseTo(expected, 12);
  });

  it('is null below two batches and the same on every call', () => {
    expect(bootstrapSlopeCI([4], [2])).toBeNull();
    const x = [1, 2, 3, 4, 5, 6];
    const y = [1.1, 2.3, 2.9, 4.2, 4.8, 6.3];
    expect(bootstrapSlopeCI(x, y)).toEqual(bootstrapSlopeCI(x, y));
  });
});

describe('bootstrapSlopeRatioCI', () => {
  it('is the ratio of the slopes when both sides lie on their lines', () => {
    const x = [2, 4, 6, 8];
    const ci = bootstrapSlopeRatioCI({ x, y: x.map((xi) => 0.5 * xi) }, { x, y: x.map((xi) => 1.5 * xi) });
    expect(ci).toEqual({ low: 3, high: 3 });
  });

  it('is null when a side has fewer than two batches', () => {
    expect(bootstrapSlopeRatioCI({ x: [1], y: [1] }, { x: [1, 2], y: [1, 2] })).toBeNull();
  });
});

describe('summarizeBatches', () => {
  it('fits the batch times rebuilt from time per call × calls', () => {
    // Per-call times 0.2, 0.25, 1/6 of batches of 10, 20, 30 calls: batch times 2, 5, 5; β = 270/1400.
    const perCall = [0.2, 0.25, 5 / 30];
    expect(batchTimes([10, 20, 30], perCall).map((t) => Number(t.toFixed(12)))).toEqual([2, 5, 5]);
    const slope = summarizeBatches([10, 20, 30], perCall)!;
    expect(slope.method).toBe('ols-through-origin');
    expect(slope.estimate).toBeCloseTo(27 / 140, 14);
    expect(slope.r2).toBeCloseTo(57 / 84, 12);
    expect(slope.ci95!.low).toBeLessThanOrEqual(slope.estimate);
    expect(slope.ci95!.high).toBeGreaterThanOrEqual(slope.estimate);
  });

  it('is null without batches', () => {
    expect(summarizeBatches([], [])).toBeNull();
  });
});
