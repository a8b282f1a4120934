import { describe, expect, it } from 'vitest';
import { holmAdjust } from '../../../runner/stats/holm.ts';

describe('holmAdjust', () => {
  it('steps down: sorted 0.005·4, 0.01·3, 0.03·2, then 0.04·1 held up to 0.06', () => {
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((expected, i) => expect(adjusted[i]).toBeCloseTo(expected, 12));
  });

  it('caps at 1 and leaves one p-value as it is', () => {
    expect(holmAdjust([0.6, 0.7])).toEqual([1, 1]);
    expect(holmAdjust([0.03])).toEqual([0.03]);
    expect(holmAdjust([])).toEqual([]);
  });

  it('refuses a p-value outside [0, 1]', () => {
    expect(() => holmAdjust([0.5, 1.5])).toThrow(/index 1/);
  });
});
