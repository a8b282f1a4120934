import { describe, expect, it } from 'vitest';
import {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  bootstrapCI,
  bootstrapMeanAndMedianCI,
  bootstrapRatioCI,
} from '../../../runner/stats/bootstrap.ts';
import { createRng } from '../../../runner/stats/random.ts';

/** Seeded normal samples by Box-Muller. */
function normalSamples(seed: number, count: number, mu: number, sigma: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => mu + sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

const width = (ci: { low: number; high: number } | null): number => (ci ? ci.high - ci.low : Number.NaN);

describe('bootstrapCI', () => {
  it('spans both values of a two-value sample', () => {
    // Resample means of [0, 10] are 0, 5, 10 with probability 1/4, 1/2, 1/4: about 500 of 2000
    // resamples sit at each end, so the 2.5% and 97.5% percentiles are 0 and 10.
    expect(bootstrapCI([0, 10], 'mean')).toEqual({ low: 0, high: 10 });
    expect(bootstrapCI([0, 10], 'median')).toEqual({ low: 0, high: 10 });
  });

  it('collapses to the value when every sample is equal', () => {
    expect(bootstrapCI([5, 5, 5], 'median')).toEqual({ low: 5, high: 5 });
  });

  it('computes each resample statistic as a direct sort of the same draws would', () => {
    // One resample makes the interval that resample's statistic. Draws index the sorted samples.
    for (const samples of [[9, 1, 4, 4, 7], [3, 8, 1, 6, 6, 2], [2, 2, 2, 5]]) {
      const sorted = [...samples].sort((a, b) => a - b);
      const rng = createRng(99);
      const resample = sorted.map(() => sorted[Math.floor(rng() * sorted.length)]!).sort((a, b) => a - b);
      const n = resample.length;
      const expectedMedian = n % 2 ? resample[(n - 1) / 2]! : (resample[n / 2 - 1]! + resample[n / 2]!) / 2;
      const expectedMean = resample.reduce((s, x) => s + x, 0) / n;
      const median = bootstrapCI(samples, 'median', { seed: 99, resamples: 1 });
      const mean = bootstrapCI(samples, 'mean', { seed: 99, resamples: 1 });
      expect(median?.low).toBeCloseTo(expectedMedian, 12);
      expect(median?.high).toBeCloseTo(expectedMedian, 12);
      expect(mean?.low).toBeCloseTo(expectedMean, 12);
    }
  });

  it('contains the true median and mean of a well-behaved sample', () => {
    const samples = normalSamples(2, 200, 100, 10);
    const median = bootstrapCI(samples, 'median')!;
    const mean = bootstrapCI(samples, 'mean')!;
    expect(median.low).toBeLessThan(100);
    expect(median.high).toBeGreaterThan(100);
    expect(mean.low).toBeLessThan(100);
    expect(mean.high).toBeGreaterThan(100);
  });

  it('covers the true mean and median in about 95% of samples', () => {
    let mean = 0;
    let median = 0;
    for (let s = 0; s < 200; s++) {
      const ci = bootstrapMeanAndMedianCI(normalSamples(1000 + s, 31, 0, 1), { resamples: 500 })!;
      if (ci.mean.low <= 0 && ci.mean.high >= 0) mean++;
      if (ci.median.low <= 0 && ci.median.high >= 0) median++;
    }
    // The percentile bootstrap undercovers slightly at n = 31; 200 trials add about ±3% of noise.
    for (const covered of [mean, median]) {
      expect(covered / 200).toBeGreaterThan(0.88);
      expect(covered / 200).toBeLessThan(0.99);
    }
  });

  it('is identical across calls and independent of sample order', () => {
    const samples = normalSamples(2, 101, 50, 5);
    const reversed = [...samples].reverse();
    expect(bootstrapCI(samples, 'median')).toEqual(bootstrapCI(samples, 'median'));
    expect(bootstrapCI(reversed, 'median')).toEqual(bootstrapCI(samples, 'median'));
    expect(bootstrapCI(reversed, 'mean')).toEqual(bootstrapCI(samples, 'mean'));
  });

  it('uses the seed and the default seed', () => {
    const samples = normalSamples(3, 50, 50, 5);
    expect(bootstrapCI(samples, 'median', { seed: 1 })).not.toEqual(bootstrapCI(samples, 'median', { seed: 2 }));
    expect(bootstrapCI(samples, 'median')).toEqual(
      bootstrapCI(samples, 'median', { seed: BOOTSTRAP_SEED, resamples: BOOTSTRAP_RESAMPLES, level: 0.95 }),
    );
  });

  it('narrows as n grows', () => {
    const small = width(bootstrapCI(normalSamples(4, 50, 100, 10), 'median'));
    const large = width(bootstrapCI(normalSamples(4, 800, 100, 10), 'median'));
    // Width shrinks like 1/√n: 16 times the samples, about a quarter of the width.
    expect(large).toBeLessThan(small / 2.5);
  });

  it('narrows at a lower level', () => {
    const samples = normalSamples(5, 100, 100, 10);
    const wide = bootstrapCI(samples, 'mean', { level: 0.95 })!;
    const narrow = bootstrapCI(samples, 'mean', { level: 0.5 })!;
    expect(narrow.low).toBeGreaterThan(wide.low);
    expect(narrow.high).toBeLessThan(wide.high);
  });

  it('is null with fewer than 2 samples', () => {
    expect(bootstrapCI([], 'mean')).toBeNull();
    expect(bootstrapCI([1], 'median')).toBeNull();
  });

  it('refuses bad options and non-finite samples', () => {
    expect(() => bootstrapCI([1, 2], 'mean', { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapCI([1, 2], 'mean', { level: 1 })).toThrow(/level/);
    expect(() => bootstrapCI([1, Number.POSITIVE_INFINITY], 'mean')).toThrow(/samples\[1\]/);
  });
});

describe('bootstrapMeanAndMedianCI', () => {
  it('gives the same intervals as two bootstrapCI calls', () => {
    const samples = normalSamples(6, 75, 10, 2);
    expect(bootstrapMeanAndMedianCI(samples)).toEqual({
      mean: bootstrapCI(samples, 'mean'),
      median: bootstrapCI(samples, 'median'),
    });
    expect(bootstrapMeanAndMedianCI([1])).toBeNull();
  });
});

describe('bootstrapRatioCI', () => {
  it('is around 1.5 when the candidate is 1.5 times the baseline', () => {
    const baseline = normalSamples(7, 100, 100, 10);
    const candidate = baseline.map((x) => 1.5 * x);
    for (const statistic of ['mean', 'median'] as const) {
      const ci = bootstrapRatioCI(baseline, candidate, statistic)!;
      expect(ci.low).toBeLessThan(1.5);
      expect(ci.high).toBeGreaterThan(1.5);
      expect(ci.low).toBeGreaterThan(1.35);
      expect(ci.high).toBeLessThan(1.65);
    }
  });

  it('contains 1 for two samples of one distribution and excludes it for a 20% shift', () => {
    const baseline = normalSamples(8, 60, 100, 5);
    const same = normalSamples(9, 60, 100, 5);
    const slower = normalSamples(10, 60, 120, 6);
    const noChange = bootstrapRatioCI(baseline, same, 'median')!;
    const shift = bootstrapRatioCI(baseline, slower, 'median')!;
    expect(noChange.low).toBeLessThan(1);
    expect(noChange.high).toBeGreaterThan(1);
    expect(shift.low).toBeGreaterThan(1.1);
    expect(shift.high).toBeLessThan(1.3);
  });

  it('is identical across calls', () => {
    const baseline = normalSamples(11, 40, 10, 1);
    const candidate = normalSamples(12, 40, 11, 1);
    expect(bootstrapRatioCI(baseline, candidate, 'mean')).toEqual(bootstrapRatioCI(baseline, candidate, 'mean'));
  });

  it('is null with fewer than 2 samples on either side', () => {
    expect(bootstrapRatioCI([1], [1, 2], 'mean')).toBeNull();
    expect(bootstrapRatioCI([1, 2], [3], 'median')).toBeNull();
  });

  it('is null when a baseline statistic is 0', () => {
    expect(bootstrapRatioCI([0, 0, 0], [1, 2, 3], 'mean')).toBeNull();
    // The baseline median is 0, and so are most of its resample medians.
    expect(bootstrapRatioCI([0, 0, 0, 1], [1, 2, 3], 'median')).toBeNull();
  });

  it('names the side holding a non-finite sample', () => {
    expect(() => bootstrapRatioCI([1, 2], [3, Number.NaN], 'mean')).toThrow(/candidate\[1\]/);
  });
});
