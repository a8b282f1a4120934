import { describe, expect, it } from 'vitest';
import { pooledTTest, regularizedIncompleteBeta, sideMoments, studentTwoSidedP } from '../../../runner/history/student-t.ts';

describe('studentTwoSidedP', () => {
  // Reference values: 2 * scipy.stats.t.sf(t, df), scipy 1.17.
  it.each([
    [2, 10, 0.07338803477074037],
    [1, 1, 0.5],
    [3, 2, 0.09546596626670913],
    [10, 48, 2.5329075677351345e-13],
    [0.5, 100, 0.6181735658308866],
    [30, 5, 7.718648620496053e-7],
  ])('t = %d, df = %d gives scipy\'s p', (t, df, p) => {
    expect(studentTwoSidedP(t, df) / p).toBeCloseTo(1, 10);
    expect(studentTwoSidedP(-t, df)).toBe(studentTwoSidedP(t, df));
  });

  it('is 1 at t = 0 and 0 at infinity', () => {
    expect(studentTwoSidedP(0, 7)).toBe(1);
    expect(studentTwoSidedP(Infinity, 7)).toBe(0);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('is x for a = b = 1 and symmetric: I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    expect(regularizedIncompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(regularizedIncompleteBeta(0.2, 2.5, 4) + regularizedIncompleteBeta(0.8, 4, 2.5)).toBeCloseTo(1, 14);
  });
});

describe('pooledTTest', () => {
  it('matches scipy.stats.ttest_ind (equal variances)', () => {
    // scipy.stats.ttest_ind([3,4,5,6,7,8], [1,2,3,4,5]) → t = 2.361887464866651, p = 0.04246981961944644
    const values = [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8];
    const result = pooledTTest(sideMoments(values, 0, 5), sideMoments(values, 5, 11));
    expect(result.df).toBe(9);
    expect(result.t).toBeCloseTo(2.361887464866651, 12);
    expect(result.pValue).toBeCloseTo(0.04246981961944644, 12);
  });

  it('is certain without spread: p = 0 for different means, 1 for equal ones', () => {
    const values = [2, 2, 2, 5, 5, 5];
    expect(pooledTTest(sideMoments(values, 0, 3), sideMoments(values, 3, 6)).pValue).toBe(0);
    expect(pooledTTest(sideMoments(values, 0, 2), sideMoments(values, 2, 3)).pValue).toBe(1);
  });

  it('tells nothing from two points', () => {
    expect(pooledTTest(sideMoments([1, 9], 0, 1), sideMoments([1, 9], 1, 2)).pValue).toBe(1);
  });
});
