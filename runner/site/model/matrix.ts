/**
 * A rig's newest artifact as a table: a row per cell, a column per metric (or
 * per statistic its `show` names), columns grouped by the event their clock
 * starts at. Every number carries its artifact and JSON pointer; a place
 * without a number carries the reason. Pure.
 */
import { storedStat, storedValue } from '../../artifact/metric-value.ts';
import type { CellResult, MetricResult } from '../../artifact/schema.ts';
import { notColdReason } from '../../artifact/cell-facts.ts';
import { expandMatrix } from '../../rig/matrix.ts';
import type { MetricDef, Rig, Stat } from '../../rig/schema.ts';
import type { ArtifactInput } from './artifact-ref.ts';
import { splitClock } from './clock.ts';
import { pointerOf } from './json-pointer.ts';
import { type Dash, Footnotes, type Shown } from './source.ts';

export interface MetricColumn extends MetricDef {
  name: string;
  start: string;
  stop: string;
  /** The statistics shown, a value each (`show`, from the current rig when it has the metric); null: the median (or slope) alone. */
  stats: Stat[] | null;
}

export interface MeasuredValue {
  /** median, or slope for a batched metric (a micro-benchmark's per-call cost fitted over its batches), or a statistic `show` names. */
  stat: Stat | 'slope';
  value: Shown;
  ci: { low: Shown; high: Shown } | null;
  n: Shown;
}

export type MatrixValue = { measured: MeasuredValue } | { dash: Dash };

export interface MatrixRow {
  cell: string;
  /** "KVM" or "TCG" for a cell whose workload recorded facts.accel (qemu cells), linked to where it says so. */
  accel: { label: string; artifactPath: string; pointer: string } | null;
  /** Set for a page-cache-dropped cell that was not a cold start (facts.cold), with why, linked to where it says so. */
  notCold: { why: string; artifactPath: string; pointer: string } | null;
  /** Set when the row is not simply a cell of the current rig that ran. */
  note: string | null;
  /** One per column, or per statistic of a column that has `stats`, in column order. */
  values: MatrixValue[];
}

export interface MatrixModel {
  /** `span`: the values under the group (a column with `stats` counts one per statistic). */
  clockGroups: { start: string; span: number }[];
  columns: MetricColumn[];
  /** Some column has `stats`: the header gets a row naming them. */
  statRow: boolean;
  rows: MatrixRow[];
  footnotes: { n: number; text: string }[];
}

/**
 * Columns of the artifact's metrics (its clocks are what was measured), then
 * metrics only the current rig has. Which statistics are shown is the current
 * rig's say when it has the metric: every statistic is in the stored summary.
 */
function metricColumns(artifactMetrics: Record<string, MetricDef>, rig: Rig | null): MetricColumn[] {
  const defs = { ...artifactMetrics };
  for (const [name, def] of Object.entries(rig?.metrics ?? {})) defs[name] ??= def;
  const columns = Object.entries(defs).map(([name, def]) => {
    const show = rig?.metrics[name] ? rig.metrics[name].show : def.show;
    return { name, ...def, ...splitClock(def.clock), stats: show ?? null };
  });
  // Metrics whose clocks start at the same event sit side by side under one group header.
  const starts = [...new Set(columns.map((column) => column.start))];
  return starts.flatMap((start) => columns.filter((column) => column.start === start));
}

function clockGroups(columns: MetricColumn[]): MatrixModel['clockGroups'] {
  const groups: MatrixModel['clockGroups'] = [];
  for (const column of columns) {
    const last = groups.at(-1);
    const span = column.stats?.length ?? 1;
    if (last && last.start === column.start) last.span += span;
    else groups.push({ start: column.start, span });
  }
  return groups;
}

function accelOf(cell: CellResult, index: number, artifactPath: string): MatrixRow['accel'] {
  const accel = cell.facts?.accel;
  if (typeof accel !== 'string') return null;
  return { label: accel.toUpperCase(), artifactPath, pointer: pointerOf('cells', index, 'facts', 'accel') };
}

function notColdOf(cell: CellResult, index: number, artifactPath: string): MatrixRow['notCold'] {
  const why = notColdReason(cell);
  return why === null ? null : { why, artifactPath, pointer: pointerOf('cells', index, 'facts', 'cold') };
}

/** The median (or a batched metric's slope), or the statistic `stat`, its CI and n of one metric in one cell, as stored in the artifact. */
export function measuredValue(
  artifactPath: string,
  index: number,
  name: string,
  metric: MetricResult,
  stat?: Stat,
): MeasuredValue | null {
  const stored = stat ? storedStat(metric, stat) : storedValue(metric);
  if (!stored) return null;
  const at = (...tail: (string | number)[]) => pointerOf('cells', index, 'metrics', name, ...tail);
  const shown = (pointer: string, value: number): Shown => ({ artifactPath, pointer, value, unit: metric.unit, format: 'value' });
  return {
    stat: stored.stat,
    value: shown(at(...stored.at.value), stored.value),
    ci: stored.ci95
      ? { low: shown(at(...stored.at.ci95, 'low'), stored.ci95.low), high: shown(at(...stored.at.ci95, 'high'), stored.ci95.high) }
      : null,
    n: { artifactPath, pointer: at(...stored.at.n), value: stored.n, unit: '', format: 'count' },
  };
}

/** The value of one metric in one cell (its median or slope, or the statistic `stat`), or the dash and why. */
export function cellValue(
  input: ArtifactInput,
  index: number,
  name: string,
  footnotes: Footnotes,
  stat?: Stat,
): MatrixValue {
  const cell = input.artifact.cells[index]!;
  if (cell.status !== 'ok') {
    const reason = `${cell.status}: ${cell.reason ?? 'no reason recorded'}`;
    return { dash: footnotes.dash(reason, { artifactPath: input.path, pointer: pointerOf('cells', index, cell.reason ? 'reason' : 'status') }) };
  }
  const metric = cell.metrics[name];
  if (!metric) return { dash: footnotes.dash(`${name} is not recorded in this run (the metric is newer than the artifact)`) };
  if (stat && metric.slope) {
    const why = `${name} is batched in this cell: it is shown by its slope, as a batch averages its calls and no per-call ${stat} was measured`;
    return { dash: footnotes.dash(why, { artifactPath: input.path, pointer: pointerOf('cells', index, 'metrics', name, 'slope') }) };
  }
  const measured = measuredValue(input.path, index, name, metric, stat);
  if (!measured) {
    return {
      dash: footnotes.dash(`no samples of ${name} in this cell: its workload does not produce this metric`, {
        artifactPath: input.path,
        pointer: pointerOf('cells', index, 'metrics', name, 'samples'),
      }),
    };
  }
  return { measured };
}

/**
 * The matrix of the newest artifact. Cells the current rig defines that the
 * artifact lacks get a row of dashes; cells the rig no longer defines are kept
 * and marked.
 */
export function matrixModel(input: ArtifactInput, rig: Rig | null, rigPath: string): MatrixModel {
  const { artifact } = input;
  const footnotes = new Footnotes();
  const columns = metricColumns(artifact.rig.definition.metrics, rig);
  const defined = rig ? expandMatrix(rig.matrix).map((cell) => cell.id) : null;
  const rows: MatrixRow[] = artifact.cells.map((cell, index) => ({
    cell: cell.id,
    accel: accelOf(cell, index, input.path),
    notCold: notColdOf(cell, index, input.path),
    note: defined && !defined.includes(cell.id) ? `not in the current ${rigPath}` : null,
    values: columns.flatMap((column) => (column.stats ?? [undefined]).map((stat) => cellValue(input, index, column.name, footnotes, stat))),
  }));
  const captured = new Set(artifact.cells.map((cell) => cell.id));
  for (const id of defined ?? []) {
    if (captured.has(id)) continue;
    const dash = footnotes.dash(
      `defined in ${rigPath} but not captured in the newest artifact (${artifact.run.status} run, or the rig changed after it)`,
    );
    rows.push({ cell: id, accel: null, notCold: null, note: 'not captured', values: columns.flatMap((column) => (column.stats ?? [null]).map(() => ({ dash }))) });
  }
  return { clockGroups: clockGroups(columns), columns, statRow: columns.some((column) => column.stats !== null), rows, footnotes: footnotes.list };
}
