/**
 * One sample of the `cycles` and `concurrent` modes is a whole load run (100
 * container lifecycles in waves, or 100 simultaneous `run --rm`): its values
 * are the percentiles of the per-container latencies and the throughput over
 * the run's wall time, as agentkernel's benchmark_test.rs and its "100
 * concurrent" table report them. Pure.
 */
import { quantileSorted } from '../../stats/percentile.ts';

export interface LoadRunSummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Completed lifecycles (or requests) per second of the run's wall time. */
  perSecond: number;
}

/**
 * Percentiles by rigor's one definition (Hyndman & Fan type 7, percentile.ts);
 * agentkernel indexes the sorted list at ⌊p·n/100⌋, which for 100 latencies
 * picks the next-higher one.
 */
export function summarizeLoadRun(latenciesMs: readonly number[], wallMs: number): LoadRunSummary {
  if (latenciesMs.length === 0) throw new RangeError('summarizeLoadRun: expected at least one latency, found none');
  if (!(wallMs > 0)) throw new RangeError(`summarizeLoadRun: expected a wall time > 0, found ${wallMs}`);
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    perSecond: sorted.length / (wallMs / 1000),
  };
}

/** `total` lifecycles run `parallel` at a time, each wave waiting for the last (agentkernel: BENCH_ITERATIONS waves of BENCH_SANDBOXES). */
export function waveSizes(total: number, parallel: number): number[] {
  if (!(Number.isInteger(total) && total >= 1 && Number.isInteger(parallel) && parallel >= 1)) {
    throw new RangeError(`waveSizes: expected whole numbers >= 1, found total ${total}, parallel ${parallel}`);
  }
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= parallel) sizes.push(Math.min(parallel, left));
  return sizes;
}
