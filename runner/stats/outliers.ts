/**
 * Outliers by the modified z-score (Iglewicz & Hoaglin 1993):
 * M_i = 0.6745 (x_i − median) / MAD, an outlier when |M_i| > 3.5.
 * Counted and reported, never removed.
 */
import { assertFiniteSamples } from './finite.ts';
import { medianAbsoluteDeviation } from './mad.ts';
import { median } from './percentile.ts';

export const MODIFIED_Z_THRESHOLD = 3.5;

/** Φ⁻¹(0.75): makes MAD a consistent estimator of σ for normal data. */
const MAD_SCALE = 0.6745;
/** √(π/2): makes the mean absolute deviation a consistent estimator of σ for normal data. */
const MEAN_AD_SCALE = 1.253314;

/**
 * Samples with M_i < −3.5 (low) and M_i > 3.5 (high).
 * When MAD = 0 (more than half the samples share one value, common with a
 * coarse clock) the scale falls back to the mean absolute deviation from the
 * median, M_i = (x_i − median) / (1.253314 · MeanAD), as IBM SPSS does; so a
 * lone slow run among identical ones is still flagged. When that is 0 too,
 * every sample equals the median and none is an outlier.
 */
export function countOutliers(samples: readonly number[]): { low: number; high: number } {
  assertFiniteSamples(samples);
  if (samples.length === 0) return { low: 0, high: 0 };
  const center = median(samples);
  const mad = medianAbsoluteDeviation(samples, center);
  const meanAd = samples.reduce((sum, x) => sum + Math.abs(x - center), 0) / samples.length;
  if (mad === 0 && meanAd === 0) return { low: 0, high: 0 };
  const score = (x: number): number =>
    mad > 0 ? (MAD_SCALE * (x - center)) / mad : (x - center) / (MEAN_AD_SCALE * meanAd);
  let low = 0;
  let high = 0;
  for (const x of samples) {
    const m = score(x);
    if (m < -MODIFIED_Z_THRESHOLD) low++;
    else if (m > MODIFIED_Z_THRESHOLD) high++;
  }
  return { low, high };
}
