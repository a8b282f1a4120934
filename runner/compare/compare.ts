/**
 * Two artifacts side by side, cell by cell and metric by metric, judged on
 * their raw samples (stored summaries are never trusted) by the rule the gate
 * uses too (change.ts). Pure.
 */
import type { Artifact, CellResult, MetricResult } from '../artifact/schema.ts';
import type { MetricDef } from '../rig/schema.ts';
import { judgedValue } from '../gate/judged-value.ts';
import { CROSS_RUN_TEST, judgeChange, noiseOf, type SameReason } from './change.ts';
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
  /** The statistic compared: the median of the samples, or a batched metric's slope (as the gate judges it). */
  stat: 'median' | 'slope';
  /** Each side's statistic and sample count (batches, for a slope). */
  a: { value: number | null; n: number };
  b: { value: number | null; n: number };
  /** stat(b) / stat(a); null when either is missing or stat(a) is 0. */
  ratio: number | null;
  /** Seeded bootstrap 95% CI of stat(b) / stat(a). */
  ratio_ci95: { low: number; high: number } | null;
  /** Mann-Whitney U, two-sided, on the raw samples. */
  p_value: number | null;
  /** The metric's noise threshold: a change of the ratio by this fraction or less is `same`. */
  noise: number;
  verdict: ComparisonVerdict;
  /** Why the verdict is `same` (change.ts). */
  reason: SameReason | null;
  /** Why a side has no samples (its cell was skipped or failed), when it has none. */
  note?: string;
}

export interface Comparison {
  a: ArtifactLabel;
  b: ArtifactLabel;
  hostsDiffer: boolean;
  /** Significance level the verdicts used. */
  alpha: number;
  /** The test p_value comes from. */
  test: typeof CROSS_RUN_TEST;
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

/** The statistic a comparison shows for a metric: the median, or the slope of a batched one. */
function statOfMetric(metric: MetricResult | undefined): 'median' | 'slope' {
  return metric?.batch_iterations ? 'slope' : 'median';
}

function side(metric: MetricResult | undefined): { value: number | null; n: number } {
  const samples = metric?.samples ?? [];
  return { value: samples.length > 0 ? judgedValue(metric!, 'median').value : null, n: samples.length };
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
  def: Pick<MetricDef, 'noise' | 'kind'>,
  alpha: number,
): ComparisonRow {
  const noise = noiseOf(def);
  const base = { cell, metric: name, unit: a.metric.unit, better: a.metric.better, noise };
  const xs = a.metric.samples;
  const ys = b.metric.samples;
  if (xs.length === 0 || ys.length === 0) {
    const note = [xs.length === 0 ? whyEmpty('A', a.cell, a.metric) : '', ys.length === 0 ? whyEmpty('B', b.cell, b.metric) : '']
      .filter(Boolean)
      .join('; ');
    const stat = statOfMetric(xs.length > 0 ? a.metric : b.metric);
    return { ...base, stat, a: side(a.metric), b: side(b.metric), ratio: null, ratio_ci95: null, p_value: null, verdict: 'no-samples', reason: null, note };
  }
  const judged = judgeChange(a.metric, b.metric, { stat: 'median', better: a.metric.better, alpha, noise });
  return {
    ...base,
    stat: judged.stat === 'slope' ? 'slope' : 'median',
    // batch_iterations is parallel to samples: a slope's batches are as many as the samples
    a: { value: judged.baseline, n: xs.length },
    b: { value: judged.candidate, n: ys.length },
    ratio: judged.ratio,
    ratio_ci95: judged.ratio_ci95,
    p_value: judged.p_value,
    verdict: judged.change,
    reason: judged.reason,
  };
}

function onlyRows(cell: CellResult, which: 'a' | 'b', names: string[], defs: Record<string, MetricDef>): ComparisonRow[] {
  return names.map((name) => {
    const metric = cell.metrics[name]!;
    const present = side(metric);
    const absent = { value: null, n: 0 };
    return {
      cell: cell.id,
      metric: name,
      unit: metric.unit,
      better: metric.better,
      stat: statOfMetric(metric),
      a: which === 'a' ? present : absent,
      b: which === 'b' ? present : absent,
      ratio: null,
      ratio_ci95: null,
      p_value: null,
      noise: noiseOf(defs[name] ?? metric),
      verdict: which === 'a' ? 'only-in-a' : 'only-in-b',
      reason: null,
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
  // The noise threshold is the candidate's rig's, as the gate takes it.
  const defs = b.rig.definition.metrics;

  for (const cellA of a.cells) {
    const cellB = cellsB.get(cellA.id);
    if (!cellB) {
      rows.push(...onlyRows(cellA, 'a', Object.keys(cellA.metrics), defs));
      continue;
    }
    for (const [name, metricA] of Object.entries(cellA.metrics)) {
      const metricB = cellB.metrics[name];
      if (!metricB) {
        rows.push(...onlyRows(cellA, 'a', [name], defs));
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
      rows.push(compareMetric(cellA.id, name, { cell: cellA, metric: metricA }, { cell: cellB, metric: metricB }, defs[name] ?? metricB, alpha));
    }
    rows.push(...onlyRows(cellB, 'b', Object.keys(cellB.metrics).filter((name) => !(name in cellA.metrics)), defs));
  }
  for (const cellB of b.cells) {
    if (!idsA.has(cellB.id)) rows.push(...onlyRows(cellB, 'b', Object.keys(cellB.metrics), defs));
  }

  return {
    a: labelOf(a, labels.a),
    b: labelOf(b, labels.b),
    hostsDiffer: hostsDiffer(a, b),
    alpha,
    test: CROSS_RUN_TEST,
    warnings: [...warnings, ...mismatched.values()],
    rows,
  };
}
