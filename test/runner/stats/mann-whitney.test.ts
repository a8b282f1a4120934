import { cumulativeStdNormalProbability, sampleStandardDeviation, mean } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { mannWhitneyU } from '../../../runner/stats/mann-whitney.ts';
import { createRng } from '../../../runner/stats/random.ts';

/** Seeded normal samples by Box-Muller. */
function normalSamples(seed: number, count: number, mu: number, sigma: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => mu + sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

/** Seeded exponential samples: CV = 1, the heavy right tail of a noisy benchmark. */
function exponentialSamples(seed: number, count: number, mu: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => -mu * Math.log(1 - rng()));
}

/** U of a by its definition: pairs with a_i > b_j, ties counting 1/2. */
function pairCountU(a: number[], b: number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}

describe('mannWhitneyU, exact', () => {
  it('gives U = 0 and p = 0.1 for completely separated samples of 3', () => {
    // Only 1 of C(6,3) = 20 orderings has U = 0 → P(U ≤ 0) = 1/20, two-sided 0.1
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, z: null, p: expect.closeTo(0.1, 12) });
  });

  it('matches a hand-enumerated p for sizes 4 and 5', () => {
    // U = 2 (6 beats 4 and 5). Orderings with U ≤ 2: partitions of 0, 1, 2 into ≤ 4 parts ≤ 5 → 1 + 1 + 2 = 4 of C(9,4) = 126.
    const result = mannWhitneyU([1, 2, 3, 6], [4, 5, 7, 8, 9]);
    expect(result.u).toBe(2);
    expect(result.p).toBeCloseTo(8 / 126, 12);
  });

  it('is symmetric: swapping the samples mirrors U and keeps p', () => {
    const forward = mannWhitneyU([1, 2, 3, 6], [4, 5, 7, 8, 9]);
    const backward = mannWhitneyU([4, 5, 7, 8, 9], [1, 2, 3, 6]);
    expect(backward.u).toBe(4 * 5 - forward.u);
    expect(backward.p).toBeCloseTo(forward.p, 12);
  });

  it('enumerates up to 20 per side: total separation has p = 2 / C(40, 20)', () => {
    const a = Array.from({ length: 20 }, (_, i) => i);
    const b = Array.from({ length: 20 }, (_, i) => 100 + i);
    const result = mannWhitneyU(a, b);
    expect(result.z).toBeNull();
    expect(result.p).toBeCloseTo(2 / 137846528820, 20);
  });

  it('gives p = 1 when U sits at the centre of its distribution', () => {
    // a = [1, 4], b = [2, 3]: U = 2 = mn/2
    expect(mannWhitneyU([1, 4], [2, 3]).p).toBe(1);
  });
});

describe('mannWhitneyU, normal approximation', () => {
  it('matches a hand-worked tied example', () => {
    // Pooled ranks: 1→1, 2,2,2→3, 3,3,3→6, 4→8, 5→9. R_a = 1+3+3+6 = 13, U = 13 − 10 = 3.
    // σ² = 20/12 · (10 − (24+24)/(9·8)), z = −(|3 − 10| − 0.5)/σ = −1.648, p = 0.0993.
    const result = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4, 5]);
    const sigma = Math.sqrt((20 / 12) * (10 - 48 / 72));
    expect(result.u).toBe(3);
    expect(result.z).toBeCloseTo(-6.5 / sigma, 10);
    expect(result.p).toBeCloseTo(0.0993, 4);
  });

  it('agrees with U, tie correction and z worked out from their definitions on larger tied samples', () => {
    const rng = createRng(11);
    const a = Array.from({ length: 40 }, () => Math.round(10 * rng()));
    const b = Array.from({ length: 35 }, () => Math.round(10 * rng() + 2));
    const m = a.length;
    const n = b.length;
    const total = m + n;
    const groups = new Map<number, number>();
    for (const x of [...a, ...b]) groups.set(x, (groups.get(x) ?? 0) + 1);
    const tieTerm = [...groups.values()].reduce((sum, t) => sum + t ** 3 - t, 0);
    const u = pairCountU(a, b);
    const sigma = Math.sqrt(((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1))));
    const z = (Math.sign(u - (m * n) / 2) * (Math.abs(u - (m * n) / 2) - 0.5)) / sigma;

    const result = mannWhitneyU(a, b);
    expect(tieTerm).toBeGreaterThan(0);
    expect(result.u).toBe(u);
    expect(result.z).toBeCloseTo(z, 10);
    // An independent Φ (simple-statistics' table, 0.01 steps in z) to about 3 decimals.
    expect(result.p).toBeCloseTo(2 * (1 - cumulativeStdNormalProbability(Math.abs(z))), 2);
    expect(result.p).toBeLessThan(0.05);
  });

  it('uses the approximation once a side has more than 20 samples', () => {
    const a = Array.from({ length: 21 }, (_, i) => i);
    const b = Array.from({ length: 5 }, (_, i) => 0.5 + i);
    expect(mannWhitneyU(a, b).z).not.toBeNull();
  });

  it('gives p = 1 for identical inputs', () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    expect(mannWhitneyU(xs, xs).p).toBe(1);
    expect(mannWhitneyU([5, 5, 5], [5, 5]).p).toBe(1);
    const large = normalSamples(5, 200, 50, 5);
    expect(mannWhitneyU(large, large).p).toBe(1);
  });
});

describe('mannWhitneyU on benchmark-like data', () => {
  it('finds a 20% shift with low noise significant (n = 30)', () => {
    const baseline = normalSamples(1, 30, 100, 3);
    const candidate = normalSamples(2, 30, 120, 3.6);
    expect(mannWhitneyU(baseline, candidate).p).toBeLessThan(0.01);
  });

  it('does not call a 20% shift in heavy noise significant (CV ~100%, n = 20)', () => {
    // With n = 20 the test has about 8% power here (200 seed pairs), so p > 0.05 is the expected outcome.
    const baseline = exponentialSamples(1, 20, 100);
    const candidate = exponentialSamples(2, 20, 120);
    const cv = sampleStandardDeviation(baseline) / mean(baseline);
    expect(cv).toBeGreaterThan(0.7);
    expect(cv).toBeLessThan(1.4);
    expect(mean(candidate) / mean(baseline)).toBeGreaterThan(1);
    expect(mannWhitneyU(baseline, candidate).p).toBeGreaterThan(0.05);
  });
});

describe('mannWhitneyU input', () => {
  it('refuses an empty sample', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1], [])).toThrow(/non-empty/);
  });

  it('refuses NaN, naming the sample and index', () => {
    expect(() => mannWhitneyU([1, 2], [3, Number.NaN])).toThrow(/b\[1\]/);
  });
});
