import { describe, expect, it } from 'vitest';
import { countOutliers, MIN_OUTLIER_SAMPLES, MODIFIED_Z_THRESHOLD, OUTLIERS_NOT_COUNTED } from '../../../runner/stats/outliers.ts';

describe('countOutliers (modified z-score)', () => {
  it('uses the Iglewicz & Hoaglin threshold of 3.5', () => {
    expect(MODIFIED_Z_THRESHOLD).toBe(3.5);
  });

  it('flags one planted high outlier and nothing else', () => {
    // median 14.5, MAD 2.5: M(100) = 0.6745·85.5/2.5 = 23.1; M(10) = 0.6745·(−4.5)/2.5 = −1.21
    expect(countOutliers([10, 11, 12, 13, 14, 15, 16, 17, 18, 100])).toEqual({ low: 0, high: 1 });
  });

  it('flags a planted low outlier as low', () => {
    // median 53.5, MAD 2.5: M(1) = 0.6745·(−52.5)/2.5 = −14.2
    expect(countOutliers([1, 50, 51, 52, 53, 54, 55, 56, 57, 58])).toEqual({ low: 1, high: 0 });
  });

  it('flags |M| just above 3.5 and not just below', () => {
    // [-1, -1, -1, 0, 0, 0, 0, 1, 1, 1, x] with x > 1: median 0, MAD 1, so M(x) = 0.6745·x.
    // 0.6745·5.18 = 3.494 (kept); 0.6745·5.2 = 3.507 (flagged)
    const around = [-1, -1, -1, 0, 0, 0, 0, 1, 1, 1];
    expect(countOutliers([...around, 5.18])).toEqual({ low: 0, high: 0 });
    expect(countOutliers([...around, 5.2])).toEqual({ low: 0, high: 1 });
    expect(countOutliers([...around, -5.2])).toEqual({ low: 1, high: 0 });
  });

  it('falls back to 1.253314 · mean absolute deviation when MAD is 0', () => {
    // median 1, MAD 0, MeanAD = 4/10: M(5) = 4 / (1.253314 · 0.4) = 7.98 > 3.5
    expect(countOutliers([1, 1, 1, 1, 1, 1, 1, 1, 1, 5])).toEqual({ low: 0, high: 1 });
    // median 1, MAD 0, MeanAD = 4/10: M(2) = 1 / (1.253314 · 0.4) = 1.99, not an outlier
    expect(countOutliers([1, 1, 1, 1, 1, 1, 2, 2, 2, 2])).toEqual({ low: 0, high: 0 });
  });

  it('finds none when every sample is equal', () => {
    expect(countOutliers(Array<number>(12).fill(4))).toEqual({ low: 0, high: 0 });
  });

  it(`counts none below ${MIN_OUTLIER_SAMPLES} samples and says why, however far a sample lies`, () => {
    expect(MIN_OUTLIER_SAMPLES).toBe(10);
    // n = 3: median 2, MAD 1: M(22.9) = 0.6745·20.9 = 14.1, flagged if counted
    expect(countOutliers([1, 2, 22.9])).toEqual({ low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    // n = 5: median 3, MAD 1: M(−10) = −8.8 and M(20) = 11.5, two flagged if counted
    expect(countOutliers([-10, 2, 3, 4, 20])).toEqual({ low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    expect(countOutliers([1, 2, 3, 4, 5, 6, 7, 8, 100])).toEqual({ low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    expect(countOutliers([])).toEqual({ low: 0, high: 0, note: OUTLIERS_NOT_COUNTED });
    expect(OUTLIERS_NOT_COUNTED).toBe('not counted: fewer than 10 samples, too few for the MAD the modified z-score divides by');
  });
});
