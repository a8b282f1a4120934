/**
 * The number a metric is shown by, as the artifact stores it: the slope of a
 * batched metric (a micro-benchmark's per-call cost), else the median of its
 * samples, or the statistics its rig's `show` names; with its 95% CI, its n
 * and where those sit in the metric's JSON. Reports and the site read this;
 * gates recompute (runner/gate/judged-value.ts).
 */
import type { Stat } from '../rig/schema.ts';
import type { MetricResult } from './schema.ts';

export interface StoredValue<S extends Stat | 'slope' = 'median' | 'slope'> {
  stat: S;
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

/** The summary's CI of each statistic that has one (the median is the p50). */
const CI_OF: Partial<Record<Stat, 'ci95_median' | 'ci95_mean'>> = { median: 'ci95_median', p50: 'ci95_median', mean: 'ci95_mean' };

/**
 * One statistic of the samples as the summary stores it (a column of the rig's
 * `show`), with its CI where the summary has one. Null when the metric has no
 * samples, or is batched: its samples are batch averages, so only the slope is a per-call value.
 */
export function storedStat(metric: MetricResult, stat: Stat): StoredValue<Stat> | null {
  const { summary, slope } = metric;
  if (!summary || slope) return null;
  const ci = CI_OF[stat];
  return {
    stat,
    value: summary[stat],
    ci95: ci ? summary[ci] : null,
    n: summary.n,
    at: { value: ['summary', stat], ci95: ci ? ['summary', ci] : [], n: ['summary', 'n'] },
  };
}
