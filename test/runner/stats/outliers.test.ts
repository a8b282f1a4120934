import { describe, expect, it } from 'vitest';
import { countOutliers, MODIFIED_Z_THRESHOLD } from '../../../runner/stats/outliers.ts';

describe('countOutliers (modified z-score)', () => {
  it('uses the Iglewicz & Hoaglin threshold of 3.5', () => {
    expect(MODIFIED_Z_THRESHOLD).toBe(3.5);
  });

  it('flags one planted high outlier and nothing else', () => {
    // median 12.5, MAD 1.5: M(100) = 0.6745·87.5/1.5 = 39.3; M(10) = 0.6745·(−2.5)/1.5 = −1.12
    expect(countOutliers([10, 11, 12, 13, 14, 100])).toEqual({ low: 0, high: 1 });
  });

  it('flags a planted low outlier as low', () => {
    // median 51.5, MAD 1.5: M(1) = 0.6745·(−50.5)/1.5 = −22.7
    expect(countOutliers([1, 50, 51, 52, 53, 54])).toEqual({ low: 1, high: 0 });
  });

  it('flags |M| just above 3.5 and not just below', () => {
    // [-1, -1, 0, 0, 0, 1, 1, x] with x > 1: median 0, MAD 1, so M(x) = 0.6745·x.
    // 0.6745·5.18 = 3.494 (kept); 0.6745·5.2 = 3.507 (flagged)
    expect(countOutliers([-1, -1, 0, 0, 0, 1, 1, 5.18])).toEqual({ low: 0, high: 0 });
    expect(countOutliers([-1, -1, 0, 0, 0, 1, 1, 5.2])).toEqual({ low: 0, high: 1 });
    expect(countOutliers([1, 1, 0, 0, 0, -1, -1, -5.2])).toEqual({ low: 1, high: 0 });
  });

  it('falls back to 1.253314 · mean absolute deviation when MAD is 0', () => {
    // median 1, MAD 0, MeanAD = 4/7: M(5) = 4 / (1.253314 · 4/7) = 5.59 > 3.5
    expect(countOutliers([1, 1, 1, 1, 1, 1, 5])).toEqual({ low: 0, high: 1 });
    // median 1, MAD 0, MeanAD = 3/7: M(2) = 1 / (1.253314 · 3/7) = 1.86, not an outlier
    expect(countOutliers([1, 1, 1, 1, 2, 2, 2])).toEqual({ low: 0, high: 0 });
  });

  it('finds none when every sample is equal, or there are none', () => {
    expect(countOutliers([4, 4, 4, 4])).toEqual({ low: 0, high: 0 });
    expect(countOutliers([])).toEqual({ low: 0, high: 0 });
  });
});
