import { describe, expect, it } from 'vitest';
import { median, quantileSorted, sortedAscending } from '../../../runner/stats/percentile.ts';

describe('quantileSorted (Hyndman & Fan type 7)', () => {
  it('interpolates between closest ranks of [1, 2, 3, 4]', () => {
    // h = (n-1)p = 3p: p=0.25 → h=0.75 → 1 + 0.75·1; p=0.9 → h=2.7 → 3 + 0.7·1.
    const xs = [1, 2, 3, 4];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted(xs, 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileSorted(xs, 0.9)).toBeCloseTo(3.7, 12);
    expect(quantileSorted(xs, 1)).toBe(4);
  });

  it('matches hand-worked values on 10 primes', () => {
    const xs = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29];
    // h = 9p. p=0.5 → 4.5 → 11 + 0.5·2; p=0.9 → 8.1 → 23 + 0.1·6; p=0.95 → 8.55 → 23 + 0.55·6; p=0.99 → 8.91 → 23 + 0.91·6.
    expect(quantileSorted(xs, 0.5)).toBeCloseTo(12, 12);
    expect(quantileSorted(xs, 0.9)).toBeCloseTo(23.6, 12);
    expect(quantileSorted(xs, 0.95)).toBeCloseTo(26.3, 12);
    expect(quantileSorted(xs, 0.99)).toBeCloseTo(28.46, 12);
    // p=0.1 → h=0.9 → 2 + 0.9·1
    expect(quantileSorted(xs, 0.1)).toBeCloseTo(2.9, 12);
  });

  it('returns the only value of a single sample for every p', () => {
    expect(quantileSorted([7], 0)).toBe(7);
    expect(quantileSorted([7], 0.99)).toBe(7);
  });

  it('accepts a Float64Array', () => {
    expect(quantileSorted(Float64Array.of(10, 20), 0.5)).toBe(15);
  });

  it('refuses no samples and p outside [0, 1]', () => {
    expect(() => quantileSorted([], 0.5)).toThrow(RangeError);
    expect(() => quantileSorted([1, 2], 1.5)).toThrow(/p in \[0, 1\], found 1.5/);
    expect(() => quantileSorted([1, 2], Number.NaN)).toThrow(RangeError);
  });
});

describe('median', () => {
  it('is the middle value for odd n and the mean of the middle two for even n', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([-3])).toBe(-3);
  });

  it('does not reorder its input', () => {
    const xs = [5, 3, 9, 1, 7, 2];
    median(xs);
    expect(xs).toEqual([5, 3, 9, 1, 7, 2]);
  });

  it('gives the same double as quantileSorted at 0.5, on large unsorted input', () => {
    const xs = Array.from({ length: 1001 }, (_, i) => ((i * 7919) % 1001) / 3);
    const ys = xs.slice(0, 1000);
    expect(median(xs)).toBe(quantileSorted([...xs].sort((a, b) => a - b), 0.5));
    expect(median(ys)).toBe(quantileSorted([...ys].sort((a, b) => a - b), 0.5));
  });

  it('refuses no samples and NaN', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => median([1, Number.NaN])).toThrow(/samples\[1\]/);
  });
});

describe('sortedAscending', () => {
  const large = (n: number) => Array.from({ length: n }, (_, i) => (i * 7919) % n);

  it('sorts a copy, ascending, and leaves the samples as they were', () => {
    const samples = [3, -0, 1, 0, 2];
    expect([...sortedAscending(samples)]).toEqual([-0, 0, 1, 2, 3]);
    expect(samples).toEqual([3, -0, 1, 0, 2]);
  });

  it("hands out a large array's sorted copy again while its values are unchanged", () => {
    const samples = large(20_000);
    const first = sortedAscending(samples);
    expect(sortedAscending(samples)).toBe(first);
    expect(sortedAscending([...samples])).not.toBe(first);
    expect([...first]).toEqual([...samples].sort((a, b) => a - b));
  });

  it('sorts a large array again after any one value changed in place', () => {
    const samples = large(20_000);
    const before = sortedAscending(samples);
    samples[123] = -1;
    const after = sortedAscending(samples);
    expect(after).not.toBe(before);
    expect(after[0]).toBe(-1);
    // The one 0 (samples[0]) made -0: equal by ===, yet a sort puts -0 first, so it is a change.
    expect(samples[0]).toBe(0);
    samples[0] = -0;
    expect(Object.is(sortedAscending(samples)[1], -0)).toBe(true);
  });
});
