/**
 * The number a metric is shown by, as the artifact stores it: the slope of a
 * batched metric (a micro-benchmark's per-call cost), else the median of its
 * samples; with its 95% CI, its n and where those sit in the metric's JSON.
 * Reports and the site read this; gates recompute (runner/gate/judged-value.ts).
 */
import type { MetricResult } from './schema.ts';

export interface StoredValue {
  stat: 'median' | 'slope';
  value: number;
  ci95: { low: number; high: number } | null;
  /** Samples, or batches for a slope. */
  n: number;
  /** JSON pointer tokens below the metric: of the value, and of the CI (whose low and high sit under it). */
  at: { value: string[]; ci95: string[]; n: string[] };
}

/** Null when the metric has no samples (no summary). */
export function storedValue(metric: MetricResult): StoredValue | null {
  const { summary, slope } = metric;
  if (!summary) return null;
  if (slope) {
    return { stat: 'slope', value: slope.estimate, ci95: slope.ci95, n: summary.n, at: { value: ['slope', 'estimate'], ci95: ['slope', 'ci95'], n: ['summary', 'n'] } };
  }
  return { stat: 'median', value: summary.median, ci95: summary.ci95_median, n: summary.n, at: { value: ['summary', 'median'], ci95: ['summary', 'ci95_median'], n: ['summary', 'n'] } };
}
