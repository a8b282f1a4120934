/** Descriptive statistics of one metric's raw samples, as stored in an artifact. */
import { max, mean, min, sampleStandardDeviation } from 'simple-statistics';
import type { Summary } from '../artifact/schema.ts';
import type { Stat } from '../rig/schema.ts';
import { bootstrapMeanAndMedianCIOfSorted } from './bootstrap.ts';
import { assertFiniteSamples } from './finite.ts';
import { medianAbsoluteDeviationSorted } from './mad.ts';
import { countOutliers, MODIFIED_Z_THRESHOLD } from './outliers.ts';
import { median, quantileSorted, sortedAscending } from './percentile.ts';

/** The upper percentiles a summary carries, as type-7 quantile levels. */
const TAIL_QUANTILES = { p90: 0.9, p95: 0.95, p99: 0.99 } as const;

/**
 * Summary of the samples; null when there are none. Throws RangeError on NaN
 * or ±Infinity. `intervals: false` leaves out the bootstrap (its CIs null),
 * which costs 2,000 draws per sample: for a reader checking the rest.
 */
export function summarize(samples: readonly number[], { intervals = true }: { intervals?: boolean } = {}): Summary | null {
  assertFiniteSamples(samples);
  const n = samples.length;
  if (n === 0) return null;
  const sorted = sortedAscending(samples);
  // simple-statistics takes number[] but never writes to it.
  const values = samples as number[];
  const average = mean(values);
  const middle = quantileSorted(sorted, 0.5);
  const stddev = n < 2 ? null : sampleStandardDeviation(values);
  const ci95 = intervals ? bootstrapMeanAndMedianCIOfSorted(sorted) : null;
  const mad = medianAbsoluteDeviationSorted(sorted, middle);
  return {
    n,
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    mean: average,
    median: middle,
    p50: middle,
    p90: quantileSorted(sorted, TAIL_QUANTILES.p90),
    p95: quantileSorted(sorted, TAIL_QUANTILES.p95),
    p99: quantileSorted(sorted, TAIL_QUANTILES.p99),
    stddev,
    mad,
    cv: stddev === null || average === 0 ? null : stddev / average,
    ci95_mean: ci95?.mean ?? null,
    ci95_median: ci95?.median ?? null,
    outliers: { method: 'modified-z-score', threshold: MODIFIED_Z_THRESHOLD, ...countOutliers(samples, { center: middle, mad }) },
  };
}

/** The value of a gate or chart statistic in a summary. */
export function statOf(summary: Summary, stat: Stat): number {
  return summary[stat];
}

/**
 * The same number as statOf(summarize(samples), stat), without the bootstrap;
 * `sorted`, the samples sorted ascending when the caller has them, saves a
 * selection or a sort (the same double either way).
 */
export function statOfSamples(samples: readonly number[], stat: Stat, sorted?: Float64Array): number {
  assertFiniteSamples(samples);
  if (samples.length === 0) throw new RangeError(`statOfSamples: expected at least one sample for ${stat}, found none`);
  // simple-statistics takes number[] but never writes to it.
  const values = samples as number[];
  switch (stat) {
    case 'min':
      return sorted ? (sorted[0] as number) : min(values);
    case 'max':
      return sorted ? (sorted[sorted.length - 1] as number) : max(values);
    case 'mean':
      // Summed in the samples' order, as summarize does: a sorted sum can differ in the last bit.
      return mean(values);
    case 'median':
    case 'p50':
      return sorted ? quantileSorted(sorted, 0.5) : median(samples);
    default:
      return quantileSorted(sorted ?? sortedAscending(samples), TAIL_QUANTILES[stat]);
  }
}
