import { describe, expect, it } from 'vitest';
import { wilcoxonSignedRank } from '../../../runner/stats/wilcoxon.ts';

describe('wilcoxonSignedRank', () => {
  it('all five differences positive: W+ = 1+2+3+4+5 = 15, exact p = 2·(1/32)', () => {
    expect(wilcoxonSignedRank([1, 2, 3, 4, 5])).toEqual({ wPlus: 15, n: 5, z: null, p: 0.0625 });
  });

  it('mixed signs: W+ = 2+3+5+6 = 16; 10 of the 64 sign sets have W+ ≤ 5, so p = 20/64', () => {
    const result = wilcoxonSignedRank([-1, 2, 3, -4, 5, 6]);
    expect(result.wPlus).toBe(16);
    expect(result.p).toBeCloseTo(0.3125, 12);
  });

  it('is symmetric in the sign of every difference', () => {
    const d = [0.3, -0.1, 0.7, 0.2, -0.4, 0.9, 0.05];
    expect(wilcoxonSignedRank(d).p).toBe(wilcoxonSignedRank(d.map((x) => -x)).p);
  });

  it('drops zero differences and gives p = 1 when none is left', () => {
    expect(wilcoxonSignedRank([0, 0, 0])).toEqual({ wPlus: 0, n: 0, z: null, p: 1 });
    expect(wilcoxonSignedRank([0, 1, 2, 3, 4, 5]).n).toBe(5);
  });

  it('ties use the normal approximation with the tie term: 40 equal differences', () => {
    // μ = 40·41/4 = 410, σ² = 40·41·81/24 − (40³−40)/48 = 5535 − 1332.5 = 4202.5,
    // z = (820 − 410 − 0.5)/√4202.5 = 409.5/64.8267 = 6.3168.
    const result = wilcoxonSignedRank(Array.from({ length: 40 }, () => 1));
    expect(result.wPlus).toBe(820);
    expect(result.z).toBeCloseTo(6.3168, 3);
    expect(result.p).toBeLessThan(1e-9);
  });

  it('refuses a non-finite difference', () => {
    expect(() => wilcoxonSignedRank([1, Number.NaN])).toThrow(/differences/);
  });
});
