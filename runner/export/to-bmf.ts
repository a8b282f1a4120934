/**
 * An artifact as Bencher Metric Format JSON (bencher.dev/docs/reference/bencher-metric-format):
 * { "<benchmark>": { "<measure>": { value, lower_value, upper_value } } }.
 * Benchmark = "<rig>/<cell id>", measure = the metric name, value = the
 * median of the raw samples in the metric's own unit, lower/upper = the
 * seeded bootstrap 95% CI of that median (left out when n < 2). Pure.
 */
import type { Artifact } from '../artifact/schema.ts';
import { bootstrapCI, median } from '../stats/index.ts';

export interface BmfMetric {
  value: number;
  lower_value?: number;
  upper_value?: number;
}

export type Bmf = Record<string, Record<string, BmfMetric>>;

/** Ok cells with samples only: a skipped or failed cell has no number to track. */
export function toBmf(artifact: Artifact): Bmf {
  const bmf: Bmf = {};
  for (const cell of artifact.cells) {
    if (cell.status !== 'ok') continue;
    const measures: Record<string, BmfMetric> = {};
    for (const [name, metric] of Object.entries(cell.metrics)) {
      if (metric.samples.length === 0) continue;
      const ci = bootstrapCI(metric.samples, 'median');
      measures[name] = { value: median(metric.samples), ...(ci && { lower_value: ci.low, upper_value: ci.high }) };
    }
    if (Object.keys(measures).length > 0) bmf[`${artifact.rig.name}/${cell.id}`] = measures;
  }
  return bmf;
}
