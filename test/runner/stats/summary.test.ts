import { describe, expect, it } from 'vitest';
import { Summary } from '../../../runner/artifact/schema.ts';
import { Stat } from '../../../runner/rig/schema.ts';
import { bootstrapCI } from '../../../runner/stats/bootstrap.ts';
import { OUTLIERS_NOT_COUNTED } from '../../../runner/stats/outliers.ts';
import { createRng } from '../../../runner/stats/random.ts';
import { statOf, statOfSamples, summarize } from '../../../runner/stats/summary.ts';

describe('summarize', () => {
  it('matches hand-worked statistics of [1, 2, 3, 4]', () => {
    const summary = summarize([3, 1, 4, 2])!;
    // stddev² = ((1.5² + 0.5²) · 2) / 3 = 5/3; type 7 with h = 3p: p95 → 3 + 0.85, p99 → 3 + 0.97
    const stddev = Math.sqrt(5 / 3);
    expect(summary).toMatchObject({ n: 4, min: 1, max: 4, mean: 2.5, median: 2.5, p50: 2.5, mad: 1 });
    expect(summary.p90).toBeCloseTo(3.7, 12);
    expect(summary.p95).toBeCloseTo(3.85, 12);
    expect(summary.p99).toBeCloseTo(3.97, 12);
    expect(summary.stddev).toBeCloseTo(stddev, 12);
    expect(summary.cv).toBeCloseTo(stddev / 2.5, 12);
    expect(summary.outliers).toEqual({ method: 'modified-z-score', threshold: 3.5, low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    for (const ci of [summary.ci95_mean!, summary.ci95_median!]) {
      expect(ci.low).toBeGreaterThanOrEqual(1);
      expect(ci.low).toBeLessThan(2.5);
      expect(ci.high).toBeGreaterThan(2.5);
      expect(ci.high).toBeLessThanOrEqual(4);
    }
  });

  it('counts a planted outlier from 10 samples on, and below that says none were counted', () => {
    expect(summarize([10, 11, 12, 13, 14, 15, 16, 17, 18, 100])!.outliers).toEqual({ method: 'modified-z-score', threshold: 3.5, low: 0, high: 1 });
    expect(summarize([10, 11, 12, 13, 14, 100])!.outliers).toEqual({ method: 'modified-z-score', threshold: 3.5, low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    expect(Summary.parse(summarize([10, 11, 100])).outliers.note).toBe(OUTLIERS_NOT_COUNTED);
  });

  it('leaves spread and intervals null for a single sample', () => {
    expect(summarize([7])).toEqual({
      n: 1,
      min: 7,
      max: 7,
      mean: 7,
      median: 7,
      p50: 7,
      p90: 7,
      p95: 7,
      p99: 7,
      stddev: null,
      mad: 0,
      cv: null,
      ci95_mean: null,
      ci95_median: null,
      outliers: { method: 'modified-z-score', threshold: 3.5, low: 0, high: 0, note: OUTLIERS_NOT_COUNTED },
    });
  });

  it('leaves cv null when the mean is 0', () => {
    const summary = summarize([-1, 1])!;
    expect(summary.stddev).toBeCloseTo(Math.SQRT2, 12);
    expect(summary.cv).toBeNull();
  });

  it('is null for no samples', () => {
    expect(summarize([])).toBeNull();
  });

  it('refuses NaN and Infinity, naming the index', () => {
    expect(() => summarize([1, 2, Number.NaN])).toThrow(RangeError);
    expect(() => summarize([1, 2, Number.NaN])).toThrow(/samples\[2\].*found NaN/);
    expect(() => summarize([Number.NEGATIVE_INFINITY])).toThrow(/samples\[0\].*found -Infinity/);
  });

  it('is identical when recomputed, validates against the artifact schema, and uses the seeded bootstrap', () => {
    const rng = createRng(5);
    const samples = Array.from({ length: 500 }, () => 10 + 5 * rng() ** 3);
    const summary = summarize(samples)!;
    expect(summarize([...samples])).toEqual(summary);
    expect(Summary.parse(summary)).toEqual(summary);
    expect(summary.ci95_median).toEqual(bootstrapCI(samples, 'median'));
    expect(summary.ci95_mean).toEqual(bootstrapCI(samples, 'mean'));
  });
});

describe('statOf and statOfSamples', () => {
  const rng = createRng(8);
  const odd = Array.from({ length: 101 }, () => 100 * rng());
  const even = odd.slice(0, 100);

  it('give the identical number for every statistic', () => {
    for (const samples of [odd, even, [42]]) {
      const summary = summarize(samples)!;
      for (const stat of Stat.options) {
        expect(statOfSamples(samples, stat), stat).toBe(statOf(summary, stat));
      }
    }
  });

  it('read the named field of a summary', () => {
    const summary = summarize([1, 2, 3, 4, 100])!;
    expect(statOf(summary, 'max')).toBe(100);
    expect(statOf(summary, 'median')).toBe(3);
    expect(statOf(summary, 'mean')).toBe(22);
  });

  it('statOfSamples refuses no samples and NaN', () => {
    expect(() => statOfSamples([], 'p95')).toThrow(/p95/);
    expect(() => statOfSamples([Number.NaN], 'min')).toThrow(/samples\[0\]/);
  });

  it('statOfSamples handles more samples than fit in an argument list', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i);
    expect(statOfSamples(many, 'max')).toBe(299_999);
    expect(statOfSamples(many, 'min')).toBe(0);
  });
});
