/**
 * The number a gate judges in one cell's metric, recomputed from what the
 * artifact keeps raw: for a batched metric (a micro-benchmark) the slope fitted
 * over its batches, whatever the gate's stat — a batch averages its calls, so
 * no per-call percentile was measured; for any other metric the gate's
 * statistic of the samples. Pure.
 */
import type { MetricResult } from '../artifact/schema.ts';
import type { Stat } from '../rig/schema.ts';
import { batchTimes, bootstrapRatioCI, bootstrapSlopeRatioCI, slopeThroughOrigin, statOfSamples, type Interval } from '../stats/index.ts';

type Measured = Pick<MetricResult, 'samples' | 'batch_iterations'>;

export interface JudgedValue {
  /** The statistic judged: the gate's, or `slope` for a batched metric. */
  stat: Stat | 'slope';
  value: number;
}

/** A metric's batches as the fit takes them: calls and total time of each; null when the metric is not batched. */
function batchesOf(metric: Measured): { x: number[]; y: number[] } | null {
  const x = metric.batch_iterations;
  return x ? { x, y: batchTimes(x, metric.samples) } : null;
}

/** The value of a metric with at least one sample. */
export function judgedValue(metric: Measured, stat: Stat): JudgedValue {
  const batches = batchesOf(metric);
  if (batches) return { stat: 'slope', value: slopeThroughOrigin(batches.x, batches.y) };
  return { stat, value: statOfSamples(metric.samples, stat) };
}

/**
 * Bootstrap 95% CI of candidate/baseline for the judged values: of the slopes
 * when both are batched, of the mean or median otherwise; null for another
 * statistic, or when one side is batched and the other not.
 */
export function judgedRatioCI(baseline: Measured, candidate: Measured, stat: Stat): Interval | null {
  const [base, cand] = [batchesOf(baseline), batchesOf(candidate)];
  if (base && cand) return bootstrapSlopeRatioCI(base, cand);
  if (base || cand) return null;
  if (stat === 'mean') return bootstrapRatioCI(baseline.samples, candidate.samples, 'mean');
  if (stat === 'median' || stat === 'p50') return bootstrapRatioCI(baseline.samples, candidate.samples, 'median');
  // The bootstrap supports mean and median; other statistics get no ratio CI rather than a wrong one.
  return null;
}
