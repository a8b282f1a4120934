import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_EXACT_MAX_N, bootstrapCI, bootstrapMeanAndMedianCI, bootstrapRatioCI, type Interval } from '../../../runner/stats/bootstrap.ts';
import { approximateMeansAndMedians, standardNormal } from '../../../runner/stats/large-n.ts';
import { createRng } from '../../../runner/stats/random.ts';
import { bootstrapSlopeCI, bootstrapSlopeRatioCI } from '../../../runner/stats/slope.ts';

/** fast-check's seed for the generated distributions: a failure reproduces with it. */
const SEED = 0x16b007;
const EXACT = { exactMaxN: Infinity };
const APPROXIMATE = { exactMaxN: 0 };

/**
 * The approximation's endpoints lie within 10% of the exact interval's width
 * of the exact ones. Each endpoint of a 2,000-resample percentile interval
 * carries Monte Carlo noise of about 1.5% of the width (sd of the 2.5%
 * quantile of 2,000 normal draws, 0.06 σ, over a width of 3.92 σ), so the
 * difference of two such endpoints has an sd near 2.2%: 10% is 4.5 sd.
 */
const TOLERANCE = 0.1;

function expectClose(approximate: Interval | null, exact: Interval | null): void {
  expect(approximate).not.toBeNull();
  expect(exact).not.toBeNull();
  const width = exact!.high - exact!.low;
  expect(width).toBeGreaterThan(0);
  expect(Math.abs(approximate!.low - exact!.low)).toBeLessThanOrEqual(TOLERANCE * width);
  expect(Math.abs(approximate!.high - exact!.high)).toBeLessThanOrEqual(TOLERANCE * width);
}

/** Continuous shapes timings take: log-normal of a chosen spread, uniform, two modes, a long exponential tail. */
type Shape = 'lognormal' | 'uniform' | 'bimodal' | 'exponential';

function draw(shape: Shape, spread: number, rng: () => number): number {
  switch (shape) {
    case 'lognormal':
      return Math.exp(spread * standardNormal(rng));
    case 'uniform':
      return 1 + spread * rng();
    case 'bimodal':
      return (rng() < 0.7 ? 1 : 1 + 5 * spread) + 0.05 * standardNormal(rng);
    case 'exponential':
      return 1 - spread * Math.log(1 - rng());
  }
}

function samplesOf(shape: Shape, spread: number, n: number, seed: number, scale = 1): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => scale * draw(shape, spread, rng));
}

const shapes = fc.record({
  shape: fc.constantFrom<Shape>('lognormal', 'uniform', 'bimodal', 'exponential'),
  spread: fc.double({ min: 0.05, max: 2, noNaN: true }),
  n: fc.integer({ min: 20_000, max: 30_000 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

describe('the large-n bootstrap', () => {
  it('is used above BOOTSTRAP_EXACT_MAX_N only: at the threshold the interval is the exact one', () => {
    expect(BOOTSTRAP_EXACT_MAX_N).toBe(100_000);
    const samples = samplesOf('lognormal', 0.1, 200, 3);
    expect(bootstrapMeanAndMedianCI(samples, { exactMaxN: 200 })).toEqual(bootstrapMeanAndMedianCI(samples, EXACT));
    expect(bootstrapMeanAndMedianCI(samples, { exactMaxN: 199 })).toEqual(bootstrapMeanAndMedianCI(samples, APPROXIMATE));
    expect(bootstrapMeanAndMedianCI(samples, APPROXIMATE)).not.toEqual(bootstrapMeanAndMedianCI(samples, EXACT));
    expect(() => bootstrapCI(samples, 'mean', { exactMaxN: -1 })).toThrow(/exactMaxN >= 0, found -1/);
  });

  it('agrees with the exact bootstrap at n = 200,000 (log-normal, as timings are), mean and median', () => {
    const samples = samplesOf('lognormal', 0.1, 200_000, 5);
    const exact = bootstrapMeanAndMedianCI(samples, EXACT)!;
    const approximate = bootstrapMeanAndMedianCI(samples)!;
    expectClose(approximate.mean, exact.mean);
    expectClose(approximate.median, exact.median);
  });

  it('property: agrees with the exact bootstrap for the mean, median, their ratios and slopes of generated distributions', () => {
    fc.assert(
      fc.property(shapes, ({ shape, spread, n, seed }) => {
        const a = samplesOf(shape, spread, n, seed);
        const b = samplesOf(shape, spread, n, seed + 1, 1.05);
        const exact = bootstrapMeanAndMedianCI(a, EXACT)!;
        const approximate = bootstrapMeanAndMedianCI(a, APPROXIMATE)!;
        expectClose(approximate.mean, exact.mean);
        expectClose(approximate.median, exact.median);
        expectClose(bootstrapRatioCI(a, b, 'median', APPROXIMATE), bootstrapRatioCI(a, b, 'median', EXACT));
        // Batches of 1 to 100 calls whose time per call is a sample: the fit of a micro-benchmark.
        const calls = a.map((_, i) => 1 + (i % 100));
        const x = { x: calls, y: calls.map((count, i) => count * a[i]!) };
        const y = { x: calls, y: calls.map((count, i) => count * b[i]!) };
        expectClose(bootstrapSlopeCI(x.x, x.y, APPROXIMATE), bootstrapSlopeCI(x.x, x.y, EXACT));
        expectClose(bootstrapSlopeRatioCI(x, y, APPROXIMATE), bootstrapSlopeRatioCI(x, y, EXACT));
      }),
      { seed: SEED, numRuns: 3 },
    );
  });

  it('gives tied samples an interval of sample values, as the exact bootstrap does', () => {
    // Integer timings 0..19: the resample median is one of them, at the rank the binomial gives.
    const rng = createRng(9);
    const samples = Array.from({ length: 30_001 }, () => Math.floor(20 * rng()));
    const approximate = bootstrapCI(samples, 'median', APPROXIMATE)!;
    expect(approximate).toEqual(bootstrapCI(samples, 'median', EXACT));
    expect(samples).toContain(approximate.low);
  });

  it('is seeded: the same samples give the same interval, another seed another one', () => {
    const samples = samplesOf('exponential', 1, 1000, 4);
    expect(bootstrapRatioCI(samples, samples, 'mean', APPROXIMATE)).toEqual(bootstrapRatioCI(samples, samples, 'mean', APPROXIMATE));
    expect(bootstrapCI(samples, 'median', { ...APPROXIMATE, seed: 1 })).not.toEqual(bootstrapCI(samples, 'median', { ...APPROXIMATE, seed: 2 }));
  });

  it('keeps a resample median inside the sample, however far the deviate', () => {
    const sorted = Float64Array.from([1, 2, 3]);
    // A generator stuck near 1 then 0 gives a deviate of about +6.7: the rank is clamped to the largest sample.
    const values = [1 - 2 ** -32, 0];
    let i = 0;
    const { median } = approximateMeansAndMedians(sorted, 1, () => values[i++ % 2]!);
    expect([...median]).toEqual([3]);
  });
});
