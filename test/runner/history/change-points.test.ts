import { describe, expect, it } from 'vitest';
import { CHANGE_POINT_DEFAULTS, detectChangePoints } from '../../../runner/history/change-points.ts';
import { createRng } from '../../../runner/stats/random.ts';

/** n points around level(i) with normal noise of the given coefficient of variation, from a seeded generator (Box-Muller). */
function noisy(n: number, seed: number, level: (i: number) => number, cv = 0.05): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => level(i) * (1 + cv * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())));
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('detectChangePoints', () => {
  it("defaults to Otava's: window 50, p < 0.001, any magnitude", () => {
    expect(CHANGE_POINT_DEFAULTS).toEqual({ windowLen: 50, maxPValue: 0.001, minMagnitude: 0 });
  });

  it.each(SEEDS)('finds one +30%% step at index 40 of 100 noisy points (seed %i)', (seed) => {
    const points = detectChangePoints(noisy(100, seed, (i) => (i < 40 ? 10 : 13)));
    expect(points).toHaveLength(1);
    const [point] = points;
    expect(point!.index).toBeGreaterThanOrEqual(38);
    expect(point!.index).toBeLessThanOrEqual(42);
    expect(point!.forwardChange).toBeCloseTo(0.3, 1);
    expect(point!.pValue).toBeLessThan(0.001);
    expect(point!.before.n + point!.after.n).toBe(100);
    expect(point!.before.mean).toBeCloseTo(10, 0);
    expect(point!.after.mean).toBeCloseTo(13, 0);
  });

  it.each(SEEDS)('finds both of two steps, up then down (seed %i)', (seed) => {
    const points = detectChangePoints(noisy(120, seed, (i) => (i < 30 ? 10 : i < 80 ? 13 : 11)));
    expect(points).toHaveLength(2);
    expect(Math.abs(points[0]!.index - 30)).toBeLessThanOrEqual(2);
    expect(Math.abs(points[1]!.index - 80)).toBeLessThanOrEqual(2);
    expect(points[0]!.forwardChange).toBeGreaterThan(0);
    expect(points[1]!.forwardChange).toBeLessThan(0);
    // each point's sides run to its neighbours, not to the ends of the series
    expect(points[0]!.after.n).toBe(points[1]!.index - points[0]!.index);
    expect(points[1]!.before.n).toBe(points[1]!.index - points[0]!.index);
  });

  it('finds a step far into a long series, across many windows', () => {
    const points = detectChangePoints(noisy(1000, 3, (i) => (i < 700 ? 10 : 11.5)));
    expect(points.map((p) => p.index)).toEqual([700]);
  });

  it.each(SEEDS)('finds nothing in a flat noisy series (seed %i)', (seed) => {
    expect(detectChangePoints(noisy(100, seed, () => 10))).toEqual([]);
  });

  it('reports a change in few flat series: the best split is searched for, its p is not corrected for that', () => {
    let flagged = 0;
    for (let seed = 100; seed < 300; seed++) if (detectChangePoints(noisy(100, seed, () => 10)).length > 0) flagged++;
    expect(flagged / 200).toBeLessThan(0.06);
  });

  it.each([20, 37, 46, 49, 60])('does not take one outlier at %i for a change point', (position) => {
    const series = noisy(100, 7, () => 10);
    series[position] = 20;
    expect(detectChangePoints(series)).toEqual([]);
  });

  it('rarely takes an interior outlier for a change, wherever it falls', () => {
    let added = 0;
    let trials = 0;
    for (let seed = 1; seed <= 10; seed++) {
      for (let position = 5; position < 90; position += 3) {
        const series = noisy(100, seed, () => 10);
        const without = detectChangePoints(series).length;
        series[position] = 20;
        trials++;
        if (detectChangePoints(series).length > without) added++;
      }
    }
    expect(added / trials).toBeLessThan(0.02);
  });

  it('reports a jump at the newest point, with one point after it: nothing can tell it from an outlier yet', () => {
    const series = noisy(60, 4, () => 10);
    series.push(20);
    const points = detectChangePoints(series);
    expect(points).toMatchObject([{ index: 60, after: { n: 1, mean: 20 } }]);
  });

  it('finds nothing in fewer than 5 points, however clear the step', () => {
    expect(detectChangePoints([])).toEqual([]);
    expect(detectChangePoints([1, 1, 10, 10])).toEqual([]);
    expect(detectChangePoints([1, 1, 1, 10, 10])).toMatchObject([{ index: 3, pValue: 0, forwardChange: 9 }]);
  });

  it('drops changes smaller than minMagnitude, and keeps only those below maxPValue', () => {
    const series = noisy(100, 2, (i) => (i < 50 ? 100 : 103), 0.005);
    expect(detectChangePoints(series).map((p) => p.index)).toEqual([50]);
    expect(detectChangePoints(series, { minMagnitude: 0.05 })).toEqual([]);
    const faint = noisy(100, 5, (i) => (i < 50 ? 10 : 10.5), 0.05);
    const found = detectChangePoints(faint, { maxPValue: 0.05 });
    expect(found).toHaveLength(1);
    expect(detectChangePoints(faint, { maxPValue: found[0]!.pValue / 2 })).toEqual([]);
  });

  it('rejects values that are not finite and options out of range', () => {
    expect(() => detectChangePoints([1, 2, NaN, 4, 5])).toThrow(/finite values, found NaN at index 2/);
    expect(() => detectChangePoints([1, 2, 3], { windowLen: 1 })).toThrow(/windowLen/);
    expect(() => detectChangePoints([1, 2, 3], { maxPValue: 0 })).toThrow(/maxPValue/);
  });
});
