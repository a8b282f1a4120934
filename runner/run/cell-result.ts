/** A cell's entry of the artifact, from what was measured (or why nothing was): pure. */
import type { CellResult, MetricResult } from '../artifact/schema.ts';
import type { Rig } from '../rig/schema.ts';
import { summarize, summarizeBatches } from '../stats/index.ts';
import type { PlannedCell } from './plan.ts';

/**
 * Every metric the rig declares, with its samples (none when not measured) and
 * their summary; a batched metric also keeps each batch's calls and the slope
 * fitted over them; with `rounds`, the round of each sample of an interleaved run.
 */
export function metricResults(
  rig: Rig,
  samples: Record<string, number[]>,
  batchIterations: Record<string, number[]> = {},
  rounds?: Record<string, number[]>,
): Record<string, MetricResult> {
  const metrics: Record<string, MetricResult> = {};
  for (const [name, def] of Object.entries(rig.metrics)) {
    const values = samples[name] ?? [];
    const batches = batchIterations[name];
    const inRounds = rounds ? { rounds: rounds[name] ?? [] } : {};
    metrics[name] = batches
      ? { ...def, samples: values, ...inRounds, batch_iterations: batches, summary: summarize(values), slope: summarizeBatches(batches, values) }
      : { ...def, samples: values, ...inRounds, summary: summarize(values) };
  }
  return metrics;
}

/** A cell that was not measured: skipped (requirement missing, interrupted) or failed before sampling. */
export function notRun(rig: Rig, planned: PlannedCell, status: 'skipped' | 'failed', reason: string): CellResult {
  return {
    id: planned.cell.id,
    params: planned.cell.params,
    status,
    reason,
    concurrency: planned.sampling.concurrency,
    warmup: planned.sampling.warmup,
    metrics: metricResults(rig, {}),
  };
}
