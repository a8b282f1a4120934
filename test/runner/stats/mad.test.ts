import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { medianAbsoluteDeviation, medianAbsoluteDeviationSorted } from '../../../runner/stats/mad.ts';
import { median } from '../../../runner/stats/percentile.ts';

/** fast-check's seed: a failure reproduces with it. */
const SEED = 0x3ad;

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

describe('medianAbsoluteDeviationSorted', () => {
  it('property: the same double as medianAbsoluteDeviation, at the median or any center, ties and all', () => {
    const value = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 5 }));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), fc.option(value), (samples, given) => {
        const center = given ?? median(samples);
        const sorted = Float64Array.from(samples).sort();
        expect(Object.is(medianAbsoluteDeviationSorted(sorted, center), medianAbsoluteDeviation(samples, center))).toBe(true);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('refuses no samples', () => {
    expect(() => medianAbsoluteDeviationSorted(new Float64Array(0), 0)).toThrow(/at least one sample/);
  });
});
