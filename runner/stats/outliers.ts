/**
 * Outliers by the modified z-score (Iglewicz & Hoaglin 1993):
 * M_i = 0.6745 (x_i − median) / MAD, an outlier when |M_i| > 3.5.
 * Counted and reported, never removed.
 */
import { assertFiniteSamples } from './finite.ts';
import { medianAbsoluteDeviation } from './mad.ts';
import { median } from './percentile.ts';

export const MODIFIED_Z_THRESHOLD = 3.5;

/**
 * Below this many samples no outlier is counted. The MAD of a handful of
 * samples is the median of as many deviations (one of them 0 when n is odd),
 * small by chance often enough that the score flags ordinary points: drawn
 * from a normal distribution, with no outlier among them, |M| > 3.5 flags 10%
 * of the points at n = 3, 5% at n = 5, 2.4% at n = 9, 1.7% at n = 10 (the
 * first n under 2%) and 0.4% at n = 30 (10^5 simulated sets per n).
 */
export const MIN_OUTLIER_SAMPLES = 10;
export const OUTLIERS_NOT_COUNTED = `not counted: fewer than ${MIN_OUTLIER_SAMPLES} samples, too few for the MAD the modified z-score divides by`;

export interface OutlierCount {
  low: number;
  high: number;
  /** Set when none were counted and why (fewer than MIN_OUTLIER_SAMPLES samples). */
  note?: string;
}

/** Φ⁻¹(0.75): makes MAD a consistent estimator of σ for normal data. */
const MAD_SCALE = 0.6745;
/** √(π/2): makes the mean absolute deviation a consistent estimator of σ for normal data. */
const MEAN_AD_SCALE = 1.253314;

/**
 * Samples with M_i < −3.5 (low) and M_i > 3.5 (high); none, with the note
 * saying so, below MIN_OUTLIER_SAMPLES samples.
 * When MAD = 0 (more than half the samples share one value, common with a
 * coarse clock) the scale falls back to the mean absolute deviation from the
 * median, M_i = (x_i − median) / (1.253314 · MeanAD), as IBM SPSS does; so a
 * lone slow run among identical ones is still flagged. When that is 0 too,
 * every sample equals the median and none is an outlier.
 */
export function countOutliers(samples: readonly number[], spread?: Spread): OutlierCount {
  assertFiniteSamples(samples);
  if (samples.length < MIN_OUTLIER_SAMPLES) return { low: 0, high: 0, note: OUTLIERS_NOT_COUNTED };
  return modifiedZOutliers(samples, spread);
}

/** The median of the samples and their MAD, when the caller has them already (a summary): not selected again. */
export interface Spread {
  center: number;
  mad: number;
}

/** The count at any n, as rigor counted before MIN_OUTLIER_SAMPLES (artifacts without outliers.note are recomputed by it). */
export function modifiedZOutliers(samples: readonly number[], spread?: Spread): OutlierCount {
  assertFiniteSamples(samples);
  if (samples.length === 0) return { low: 0, high: 0 };
  const center = spread?.center ?? median(samples);
  const mad = spread?.mad ?? medianAbsoluteDeviation(samples, center);
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
