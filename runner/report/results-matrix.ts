/**
 * The report `rigor run` prints: a row per cell and a column per metric (the
 * median, or a batched metric's slope; its 95% CI; n), or per statistic its
 * rig's `show` names ("acquire_ready_ms mean"), as the site's matrix. A
 * cell not measured is one row with its status and a short reason; every
 * reason is said once, in a numbered note the rows refer to. Gates are summed
 * up per verdict with the command to run next. Columns that do not fit the
 * width go to a further block that repeats the cell columns, so no line is
 * wider than maxWidth (default 120). The full per-metric table is
 * results-table.ts (`--verbose`).
 */
import { storedStat, storedValue } from '../artifact/metric-value.ts';
import type { Artifact, CellResult, MetricResult } from '../artifact/schema.ts';
import { notColdReason } from '../artifact/cell-facts.ts';
import type { Stat } from '../rig/schema.ts';
import { sharedAxes } from './cell-set.ts';
import { Footnotes } from './footnotes.ts';
import { gateSummary, type NextCommandOptions } from './gate-summary.ts';
import { formatNumber } from './number.ts';
import { runHeader } from './results-table.ts';
import { wrapText } from './wrap.ts';

export interface MatrixOptions extends NextCommandOptions {
  /** No line is wider than this; default 120. */
  maxWidth?: number;
}

export const DEFAULT_WIDTH = 120;
const GAP = '  ';
const DASH = '—';
/** A short reason in a row is cut at this length; its note has it whole. */
const SHORT_REASON = 48;

export function formatResultsMatrix(artifact: Artifact, opts: MatrixOptions = {}): string {
  const width = Math.max(40, opts.maxWidth === undefined || !Number.isFinite(opts.maxWidth) ? DEFAULT_WIDTH : opts.maxWidth);
  const notes = new Footnotes();
  const matrix = matrixLines(artifact, notes, width);
  const gates = gateSummary(artifact, notes, width, opts);
  const wrapped = (text: string, first = '', rest = ' '.repeat(first.length)) => wrapText(text, width, first, rest);
  return [
    ...runHeader(artifact).flatMap((line, i) => wrapped(line, '', i === 0 ? '' : '  ')),
    '',
    ...matrix,
    ...(notes.list.length ? ['', ...notes.list.flatMap((note) => wrapped(note.text, `[${note.n}] `))] : []),
    ...(artifact.ratios?.length ? ['', 'ratios:', ...artifact.ratios.flatMap((r) => wrapped(`${r.name}: ${r.detail}`, '  ', '    '))] : []),
    ...(gates.length ? ['', ...gates] : []),
    ...(artifact.host.warnings.length ? ['', 'host warnings:', ...artifact.host.warnings.flatMap((w) => wrapped(w, '  ', '    '))] : []),
  ].join('\n');
}

// ---------------------------------------------------------------- the matrix

interface Value {
  median: string;
  /** "±0.15", "±0.15 n=3", or "" when there is no CI. */
  spread: string;
}

interface MetricColumn {
  /** Position among the measured metrics: the index into a row's values. */
  index: number;
  name: string;
  unit: string;
  header: string[];
  medianWidth: number;
  spreadWidth: number;
  width: number;
}

interface LabelColumn {
  header: string;
  align: 'left' | 'right';
  width: number;
}

interface Row {
  labels: string[];
  /** n of the row: shared by its measured metrics (the most common n when they differ). */
  n: string;
  /** One per metric column; absent for a cell not measured (then `span` says why). */
  values: Value[] | null;
  span: string;
  note: string;
}

/** A column's metric, and the statistic it shows when the rig's `show` names one (else the median, or a slope). */
interface Shown {
  name: string;
  unit: string;
  stat: Stat | null;
}

function matrixLines(artifact: Artifact, notes: Footnotes, width: number): string[] {
  const cells = artifact.cells;
  if (cells.length === 0) return ['no cells'];
  const metrics = Object.entries(artifact.rig.definition.metrics).map(([name, def]) => ({ name, unit: def.unit, show: def.show }));
  // Metrics no cell measured would be a column of dashes; they are named once instead.
  const measuredMetrics = metrics.filter((m) => cells.some((cell) => hasSamples(cell.metrics[m.name])));
  const unmeasured = metrics.filter((m) => !measuredMetrics.includes(m));
  const measured: Shown[] = measuredMetrics.flatMap(({ name, unit, show }) => (show ?? [null]).map((stat) => ({ name, unit, stat })));
  const units = [...new Set(measured.map((m) => m.unit))];
  const oneUnit = units.length === 1;

  const axes = sharedAxes(cells);
  const labelHeaders = axes ?? ['cell'];
  const nHeader = labelHeaders.includes('n') ? 'samples' : 'n';
  const rows = cells.map((cell) => rowOf(cell, axes, measured, notes));

  const labels: LabelColumn[] = labelHeaders.map((header, i) => {
    const texts = rows.map((row) => row.labels[i]!);
    const numeric = texts.every((text) => text !== '' && Number.isFinite(Number(text)));
    return { header, align: numeric ? 'right' : 'left', width: Math.max(header.length, ...texts.map((t) => t.length)) };
  });
  const nColumn: LabelColumn = { header: nHeader, align: 'right', width: Math.max(nHeader.length, ...rows.map((r) => r.n.length)) };
  const noteWidth = Math.max(0, ...rows.map((r) => r.note.length));
  const noteColumn: LabelColumn | null = noteWidth > 0 ? { header: 'note', align: 'left', width: Math.max(4, noteWidth) } : null;
  const columnsOf = (fold: boolean) =>
    measured.map((metric, i) => metricColumn(i, metric.stat ? `${metric.name} ${metric.stat}` : metric.name, oneUnit ? '' : metric.unit, rows.map((r) => r.values?.[i]), fold));

  // The label columns repeat in every block; when they alone crowd out a metric, the widest label is cut.
  const fixedColumns = [...labels, nColumn, ...(noteColumn ? [noteColumn] : [])];
  const fixedWidth = () => fixedColumns.reduce((sum, c) => sum + c.width + GAP.length, 0);
  // Names are folded onto two header lines only when the columns do not fit side by side.
  const unfolded = columnsOf(false);
  const fits = fixedWidth() + unfolded.reduce((sum, c) => sum + c.width + GAP.length, 0) - GAP.length <= width;
  const columns = fits ? unfolded : columnsOf(true);
  const widest = Math.max(0, ...columns.map((c) => c.width));
  const over = fixedWidth() + widest - width;
  if (over > 0) {
    const cut = labels.reduce((a, b) => (b.width > a.width ? b : a));
    cut.width = Math.max(8, cut.width - over);
  }
  const blocks: MetricColumn[][] = [];
  for (const column of columns) {
    const block = blocks.at(-1);
    const used = block ? fixedWidth() + block.reduce((sum, c) => sum + c.width + GAP.length, 0) : Infinity;
    if (block && used + column.width <= width) block.push(column);
    else blocks.push([column]);
  }
  if (blocks.length === 0) blocks.push([]);

  const legend = `${statWords(cells, measured)} ±95% CI (wider side)${measured.some((m) => m.stat) ? ' where the statistic has one (median, mean)' : ''}${oneUnit ? (units[0] ? ` in ${units[0]}` : '') : ', unit under each metric'}; ${nHeader === 'n' ? 'n = samples' : 'samples = sample count'}`;
  const lines = wrapText(`${legend}; --verbose adds p95, CV, outliers, exact CIs`, width);
  for (const block of blocks) lines.push('', ...renderBlock(labels, nColumn, noteColumn, block, rows, width));
  if (unmeasured.length) lines.push('', ...wrapText(`no cell measured ${unmeasured.map((m) => m.name).join(', ')}`, width));
  return lines;
}

/** What the values are: medians, slopes (batched micro-benchmarks, whose samples are batches), or both; and the statistics columns name. */
function statWords(cells: CellResult[], metrics: Shown[]): string {
  const stats = new Set<string>();
  for (const cell of cells) {
    for (const { name } of metrics.filter((m) => m.stat === null)) {
      const metric = cell.metrics[name];
      if (hasSamples(metric)) stats.add(storedValue(metric!)!.stat);
    }
  }
  const named = [...new Set(metrics.flatMap((m) => (m.stat ? [m.stat] : [])))];
  const byName = named.length ? `the statistic after the metric's name (${named.join(', ')})` : '';
  if (stats.size === 0 && byName) return byName;
  const slope = 'slope (per-call cost fitted over batches; a sample is a batch)';
  const words = !stats.has('slope') ? 'median' : stats.has('median') ? `median, or ${slope}` : slope;
  return byName ? `${words}, or ${byName}` : words;
}

function hasSamples(metric: MetricResult | undefined): boolean {
  return Boolean(metric && metric.samples.length > 0 && metric.summary);
}

function rowOf(cell: CellResult, axes: string[] | null, metrics: Shown[], notes: Footnotes): Row {
  const labels = axes ? axes.map((axis) => String(cell.params[axis])) : [cell.id];
  const measured = [...new Set(metrics.map((m) => m.name))].filter((name) => hasSamples(cell.metrics[name]));
  const note: string[] = [];
  if (measured.length === 0) {
    const reason = cell.reason ?? (cell.status === 'ok' ? 'no samples recorded' : 'no reason recorded');
    return { labels, n: '', values: null, span: `${cell.status} ${notes.ref(reason)} ${shortReason(reason)}`, note: '' };
  }
  if (cell.status !== 'ok') note.push(`${cell.status} ${notes.ref(cell.reason ?? 'no reason recorded')}`);
  if (cell.truncated) note.push(`truncated ${notes.ref(`${cell.id}: truncated: ${cell.truncated}`)}`);
  if (typeof cell.facts?.summary === 'string') note.push(notes.ref(`${cell.id}: ${cell.facts.summary}`));
  const notCold = notColdReason(cell);
  if (notCold) note.push(`not cold ${notes.ref(`${cell.id}: not cold: ${notCold}`)}`);
  const ns = measured.map((name) => cell.metrics[name]!.summary!.n);
  const n = mode(ns);
  const values = metrics.map((m): Value => {
    const metric = cell.metrics[m.name];
    // A batched metric has no per-call statistic but its slope (the rig refuses `show` for one).
    const s = hasSamples(metric) ? (m.stat ? storedStat(metric!, m.stat) : storedValue(metric!)) : null;
    if (!s) return { median: DASH, spread: '' };
    const spread = s.ci95 ? `±${formatSpread(s.value, Math.max(s.value - s.ci95.low, s.ci95.high - s.value, 0))}` : '';
    return { median: formatNumber(s.value), spread: `${spread}${s.n === n ? '' : `${spread ? ' ' : ''}n=${s.n}`}` };
  });
  return { labels, n: String(n), values, span: '', note: note.join(' ') };
}

/** The first clause of a reason ("backend docker unavailable"), cut to a short length. */
export function shortReason(reason: string): string {
  const clause = reason.split(/: |; | \(|\n/)[0]!.trim();
  return clause.length <= SHORT_REASON ? clause : `${clause.slice(0, SHORT_REASON - 1)}…`;
}

function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

/** The CI's half-width with as many decimals as the median shows (more when it would read 0). */
export function formatSpread(median: number, spread: number): string {
  const shown = formatNumber(median);
  if (shown.includes('e')) return spread.toExponential(1);
  const decimals = shown.includes('.') ? shown.length - shown.indexOf('.') - 1 : 0;
  if (spread === 0 || Number(spread.toFixed(decimals)) !== 0) return spread.toFixed(decimals);
  return spread.toPrecision(1);
}

function metricColumn(index: number, name: string, unit: string, values: (Value | undefined)[], fold: boolean): MetricColumn {
  const present = values.filter((v): v is Value => v !== undefined);
  const medianWidth = Math.max(1, ...present.map((v) => v.median.length));
  const spreadWidth = Math.max(0, ...present.map((v) => v.spread.length));
  const valueWidth = medianWidth + (spreadWidth ? 1 + spreadWidth : 0);
  // A long name is folded at its underscores onto two header lines rather than widen the column.
  let columnWidth = Math.max(valueWidth, unit.length, fold ? 0 : name.length);
  let header = foldName(name, columnWidth);
  while (header.length > 2) header = foldName(name, ++columnWidth);
  columnWidth = Math.max(columnWidth, ...header.map((line) => line.length));
  return { index, name, unit, header: unit ? [...header, unit] : header, medianWidth, spreadWidth, width: columnWidth };
}

function foldName(name: string, width: number): string[] {
  const tokens = name.split(/(?<=_)/);
  const lines: string[] = [];
  for (const token of tokens) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + token.length <= width) lines[lines.length - 1] = last + token;
    else lines.push(token);
  }
  return lines;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}

function renderBlock(
  labels: LabelColumn[],
  nColumn: LabelColumn,
  noteColumn: LabelColumn | null,
  block: MetricColumn[],
  rows: Row[],
  width: number,
): string[] {
  const headerHeight = Math.max(1, ...block.map((c) => c.header.length));
  const lead = [...labels, nColumn];
  const lines: string[] = [];
  for (let h = 0; h < headerHeight; h++) {
    const last = h === headerHeight - 1;
    // Header lines sit at the bottom, so a folded name and its unit end on the rule.
    const metricHeads = block.map((c) => pad(c.header[h - (headerHeight - c.header.length)] ?? '', c.width, 'left'));
    lines.push(
      [
        ...lead.map((c) => pad(last ? c.header : '', c.width, c.align)),
        ...metricHeads,
        ...(noteColumn ? [pad(last ? noteColumn.header : '', noteColumn.width, 'left')] : []),
      ]
        .join(GAP)
        .trimEnd(),
    );
  }
  lines.push([...lead, ...block, ...(noteColumn ? [noteColumn] : [])].map((c) => '─'.repeat(c.width)).join(GAP));
  for (const row of rows) {
    const start = [...row.labels.map((label, i) => pad(label, labels[i]!.width, labels[i]!.align)), pad(row.n, nColumn.width, 'right')].join(GAP);
    if (!row.values) {
      lines.push(pad(`${start}${GAP}${row.span}`, width, 'left').trimEnd());
      continue;
    }
    const values = block.map((column) => {
      const value = row.values![column.index]!;
      const median = value.median.padStart(column.medianWidth);
      return pad(value.spread ? `${median} ${value.spread}` : median, column.width, 'left');
    });
    lines.push([start, ...values, ...(noteColumn ? [pad(row.note, noteColumn.width, 'left')] : [])].join(GAP).trimEnd());
  }
  return lines;
}
