import { describe, expect, it } from 'vitest';
import { medianAbsoluteDeviation } from '../../../runner/stats/mad.ts';

describe('medianAbsoluteDeviation', () => {
  it('is the median of absolute deviations from the median, unscaled', () => {
    // median 2; |x - 2| = 1 1 0 0 2 4 7 → sorted 0 0 1 1 2 4 7 → 1
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    // median 2.5; |x - 2.5| = 1.5 0.5 0.5 1.5 → 1
    expect(medianAbsoluteDeviation([1, 2, 3, 4])).toBe(1);
    // median 12.5; deviations 2.5 1.5 0.5 0.5 1.5 87.5 → sorted 0.5 0.5 1.5 1.5 2.5 87.5 → 1.5
    expect(medianAbsoluteDeviation([10, 11, 12, 13, 14, 100])).toBe(1.5);
  });

  it('is 0 when more than half the samples are equal', () => {
    expect(medianAbsoluteDeviation([3, 3, 3, 8, 100])).toBe(0);
  });

  it('uses a given center instead of the median', () => {
    expect(medianAbsoluteDeviation([1, 2, 3], 0)).toBe(2);
  });
});
