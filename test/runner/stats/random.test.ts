import { describe, expect, it } from 'vitest';
import { createRng } from '../../../runner/stats/random.ts';

const draw = (seed: number, count: number): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng());
};

describe('createRng', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
  });

  it('gives a different sequence for a different seed', () => {
    expect(draw(42, 10)).not.toEqual(draw(43, 10));
  });

  it('matches the published Mulberry32 reference output', () => {
    // Reference: the C implementation (state += 0x6D2B79F5; ...) with seed 0, outputs divided by 2^32.
    expect(draw(0, 3).map((u) => Math.round(u * 4294967296))).toEqual([1144304738, 1416247, 958946056]);
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const values = draw(7, 100_000);
    expect(values.every((u) => u >= 0 && u < 1)).toBe(true);
    const buckets = new Array<number>(10).fill(0);
    for (const u of values) buckets[Math.floor(u * 10)]! += 1;
    // Each bucket expects 10,000; 5 standard deviations is about ±475.
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(475);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => createRng(Number.NaN)).toThrow(/integer seed/);
  });
});
