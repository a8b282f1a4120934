/** What the charts of a rig page plot, per metric: medians (or slopes) with CI and the raw samples per cell. Pure. */
import type { ArtifactInput } from './artifact-ref.ts';
import { useLogScale } from './log-scale.ts';
import { measuredValue, type MetricColumn } from './matrix.ts';
import type { Shown } from './source.ts';

export interface ChartCell {
  cell: string;
  /** The median, or a batched metric's slope. */
  value: Shown;
  low: number | null;
  high: number | null;
  samples: number[];
}

export interface MetricCharts {
  metric: string;
  unit: string;
  better: 'lower' | 'higher';
  clock: string;
  /** What the bars are: "median", "slope" (batched metrics), or "median or slope" when cells differ. */
  stat: string;
  /** Log axis for the bars when medians and CI ends span more than two orders of magnitude. */
  logBars: boolean;
  /** The same decision over the raw samples. */
  logSamples: boolean;
  cells: ChartCell[];
}

/** One entry per metric with at least one measured cell, in column order. */
export function metricCharts(input: ArtifactInput, columns: MetricColumn[]): MetricCharts[] {
  const charts: MetricCharts[] = [];
  for (const column of columns) {
    const cells: ChartCell[] = [];
    const stats = new Set<string>();
    input.artifact.cells.forEach((cell, index) => {
      const metric = cell.metrics[column.name];
      if (cell.status !== 'ok' || !metric) return;
      const measured = measuredValue(input.path, index, column.name, metric);
      if (!measured) return;
      stats.add(measured.stat);
      cells.push({
        cell: cell.id,
        value: measured.value,
        low: measured.ci?.low.value ?? null,
        high: measured.ci?.high.value ?? null,
        samples: metric.samples,
      });
    });
    if (cells.length === 0) continue;
    const barValues = cells.flatMap((cell) => [cell.value.value, ...(cell.low === null ? [] : [cell.low, cell.high!])]);
    charts.push({
      metric: column.name,
      unit: column.unit,
      better: column.better,
      clock: column.clock,
      stat: [...stats].join(' or '),
      logBars: useLogScale(barValues),
      logSamples: useLogScale(cells.flatMap((cell) => cell.samples)),
      cells,
    });
  }
  return charts;
}
