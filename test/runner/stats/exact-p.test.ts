import { describe, expect, it } from 'vitest';
import { twoSidedFromCounts } from '../../../runner/stats/exact-p.ts';

describe('twoSidedFromCounts', () => {
  it('doubles the smaller tail and caps at 1', () => {
    // W+ for n = 3: the 8 sign sets give 0,1,2,3,3,4,5,6 → counts [1,1,1,2,1,1,1].
    const counts = [1, 1, 1, 2, 1, 1, 1];
    expect(twoSidedFromCounts(counts, 0)).toBe(2 / 8);
    expect(twoSidedFromCounts(counts, 6)).toBe(2 / 8);
    expect(twoSidedFromCounts(counts, 3)).toBe(1);
  });
});
