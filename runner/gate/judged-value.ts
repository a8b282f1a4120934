/**
 * The number a gate judges in one cell's metric, recomputed from what the
 * artifact keeps raw: for a batched metric (a micro-benchmark) the slope fitted
 * over its batches, whatever the gate's stat — a batch averages its calls, so
 * no per-call percentile was measured; for any other metric the gate's
 * statistic of the samples. Pure.
 */
import type { MetricResult } from '../artifact/schema.ts';
import type { Stat } from '../rig/schema.ts';
import { batchTimes, bootstrapRatioCIOfSorted, bootstrapSlopeRatioCI, slopeThroughOrigin, sortedAscending, statOfSamples, type Interval } from '../stats/index.ts';

/** A metric's raw numbers (MetricResult's, or a side of an A/B run's), never written to. */
type Measured = { readonly [K in keyof Pick<MetricResult, 'samples' | 'batch_iterations'>]: Readonly<MetricResult[K]> };

export interface JudgedValue {
  /** The statistic judged: the gate's, or `slope` for a batched metric. */
  stat: Stat | 'slope';
  value: number;
}

/** A metric's batches as the fit takes them: calls and total time of each; null when the metric is not batched. */
function batchesOf(metric: Measured): { x: readonly number[]; y: number[] } | null {
  const x = metric.batch_iterations;
  return x ? { x, y: batchTimes(x, metric.samples) } : null;
}

/** The value of a metric with at least one sample; `sorted`, its samples sorted ascending when the caller has them, saves a selection. */
export function judgedValue(metric: Measured, stat: Stat, sorted?: Float64Array): JudgedValue {
  const batches = batchesOf(metric);
  if (batches) return { stat: 'slope', value: slopeThroughOrigin(batches.x, batches.y) };
  return { stat, value: statOfSamples(metric.samples, stat, sorted) };
}

/**
 * Bootstrap 95% CI of candidate/baseline for the judged values: of the slopes
 * when both are batched, of the mean or median otherwise; null for another
 * statistic, or when one side is batched and the other not. `sorted`: both
 * sides' samples sorted ascending, when the caller has them.
 */
export function judgedRatioCI(
  baseline: Measured,
  candidate: Measured,
  stat: Stat,
  sorted?: { baseline: Float64Array; candidate: Float64Array },
): Interval | null {
  const [base, cand] = [batchesOf(baseline), batchesOf(candidate)];
  if (base && cand) return bootstrapSlopeRatioCI(base, cand);
  if (base || cand) return null;
  const statistic = stat === 'mean' ? 'mean' : stat === 'median' || stat === 'p50' ? 'median' : null;
  if (statistic) {
    const { baseline: a, candidate: b } = sorted ?? { baseline: sortedAscending(baseline.samples), candidate: sortedAscending(candidate.samples) };
    return bootstrapRatioCIOfSorted(a, b, statistic);
  }
  // The bootstrap supports mean and median; other statistics get no ratio CI rather than a wrong one.
  return null;
}
