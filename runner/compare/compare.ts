/**
 * Two artifacts side by side, cell by cell and metric by metric, judged on
 * their raw samples (stored summaries are never trusted). Pure.
 */
import type { Artifact, CellResult, MetricResult } from '../artifact/schema.ts';
import { bootstrapRatioCI, mannWhitneyU, median } from '../stats/index.ts';
import { shiftOf } from './shift.ts';
import { hostsDiffer, pairWarnings } from './warnings.ts';

export interface ArtifactLabel {
  label: string;
  rig: string;
  commit: string | null;
  host: string;
  started_at: string;
}

export type ComparisonVerdict = 'better' | 'worse' | 'same' | 'only-in-a' | 'only-in-b' | 'no-samples';

export interface ComparisonRow {
  cell: string;
  metric: string;
  unit: string;
  better: 'lower' | 'higher';
  a: { median: number | null; n: number };
  b: { median: number | null; n: number };
  /** median(b) / median(a); null when either is missing or median(a) is 0. */
  ratio: number | null;
  /** Seeded bootstrap 95% CI of median(b) / median(a). */
  ratio_ci95: { low: number; high: number } | null;
  /** Mann-Whitney U, two-sided, on the raw samples. */
  p_value: number | null;
  verdict: ComparisonVerdict;
  /** Why a side has no samples (its cell was skipped or failed), when it has none. */
  note?: string;
}

export interface Comparison {
  a: ArtifactLabel;
  b: ArtifactLabel;
  hostsDiffer: boolean;
  /** Significance level the verdicts used. */
  alpha: number;
  warnings: string[];
  rows: ComparisonRow[];
}

export interface CompareOptions {
  /** A difference counts only when p < alpha (default 0.05). */
  alpha?: number;
  labels?: { a: string; b: string };
}

export const DEFAULT_ALPHA = 0.05;

function labelOf(artifact: Artifact, label: string): ArtifactLabel {
  return {
    label,
    rig: artifact.rig.name,
    commit: artifact.git.commit,
    host: artifact.host.id,
    started_at: artifact.run.started_at,
  };
}

function side(metric: MetricResult | undefined): { median: number | null; n: number } {
  const samples = metric?.samples ?? [];
  return { median: samples.length > 0 ? median(samples) : null, n: samples.length };
}

function whyEmpty(label: string, cell: CellResult, metric: MetricResult | undefined): string {
  if (cell.status !== 'ok') return `${label}: cell ${cell.status}${cell.reason ? ` (${cell.reason})` : ''}`;
  return metric ? `${label}: no samples` : `${label}: metric not recorded`;
}

function compareMetric(
  cell: string,
  name: string,
  a: { cell: CellResult; metric: MetricResult },
  b: { cell: CellResult; metric: MetricResult },
  alpha: number,
): ComparisonRow {
  const base = { cell, metric: name, unit: a.metric.unit, better: a.metric.better, a: side(a.metric), b: side(b.metric) };
  const xs = a.metric.samples;
  const ys = b.metric.samples;
  if (xs.length === 0 || ys.length === 0) {
    const note = [xs.length === 0 ? whyEmpty('A', a.cell, a.metric) : '', ys.length === 0 ? whyEmpty('B', b.cell, b.metric) : '']
      .filter(Boolean)
      .join('; ');
    return { ...base, ratio: null, ratio_ci95: null, p_value: null, verdict: 'no-samples', note };
  }
  const ratio = base.a.median === 0 ? null : base.b.median! / base.a.median!;
  const { u, p } = mannWhitneyU(xs, ys);
  let verdict: ComparisonVerdict = 'same';
  const shift = shiftOf(u, xs.length, ys.length);
  if (p < alpha && shift !== 0) {
    const lower = shift < 0;
    verdict = lower === (a.metric.better === 'lower') ? 'better' : 'worse';
  }
  return { ...base, ratio, ratio_ci95: bootstrapRatioCI(xs, ys, 'median'), p_value: p, verdict };
}

function onlyRows(cell: CellResult, which: 'a' | 'b', names: string[]): ComparisonRow[] {
  return names.map((name) => {
    const metric = cell.metrics[name]!;
    const present = side(metric);
    const absent = { median: null, n: 0 };
    return {
      cell: cell.id,
      metric: name,
      unit: metric.unit,
      better: metric.better,
      a: which === 'a' ? present : absent,
      b: which === 'b' ? present : absent,
      ratio: null,
      ratio_ci95: null,
      p_value: null,
      verdict: which === 'a' ? 'only-in-a' : 'only-in-b',
    };
  });
}

/**
 * Compare b against a. Rows follow a's cell order, then cells only b has.
 * A metric whose unit, direction or clock differs between the two is never
 * compared: it gets one warning and no rows (two clocks never share a column).
 */
export function compareArtifacts(a: Artifact, b: Artifact, opts: CompareOptions = {}): Comparison {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  // Messages say A and B, as the table's columns do; the labels name the two once, above the table.
  const sides = { a: 'A', b: 'B' };
  const labels = opts.labels ?? sides;
  const warnings = pairWarnings(a, b, sides);
  const mismatched = new Map<string, string>();
  const rows: ComparisonRow[] = [];
  const cellsB = new Map(b.cells.map((cell) => [cell.id, cell]));
  const idsA = new Set(a.cells.map((cell) => cell.id));

  for (const cellA of a.cells) {
    const cellB = cellsB.get(cellA.id);
    if (!cellB) {
      rows.push(...onlyRows(cellA, 'a', Object.keys(cellA.metrics)));
      continue;
    }
    for (const [name, metricA] of Object.entries(cellA.metrics)) {
      const metricB = cellB.metrics[name];
      if (!metricB) {
        rows.push(...onlyRows(cellA, 'a', [name]));
        continue;
      }
      const differs = (['unit', 'better', 'clock'] as const).filter((field) => metricA[field] !== metricB[field]);
      if (differs.length > 0) {
        const field = differs[0]!;
        mismatched.set(
          name,
          `metric ${name} is defined differently (${field}: "${metricA[field]}" in A vs "${metricB[field]}" in B): not compared`,
        );
        continue;
      }
      rows.push(compareMetric(cellA.id, name, { cell: cellA, metric: metricA }, { cell: cellB, metric: metricB }, alpha));
    }
    rows.push(...onlyRows(cellB, 'b', Object.keys(cellB.metrics).filter((name) => !(name in cellA.metrics))));
  }
  for (const cellB of b.cells) {
    if (!idsA.has(cellB.id)) rows.push(...onlyRows(cellB, 'b', Object.keys(cellB.metrics)));
  }

  return {
    a: labelOf(a, labels.a),
    b: labelOf(b, labels.b),
    hostsDiffer: hostsDiffer(a, b),
    alpha,
    warnings: [...warnings, ...mismatched.values()],
    rows,
  };
}
