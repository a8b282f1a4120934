/** `rigor history` for the terminal: one table per series, rig edits and change points marked where they start. */
import { formatInterval, formatNumber, formatP } from '../report/number.ts';
import { renderTable, type Column } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import { CHANGE_POINT_DEFAULTS, MIN_SERIES_LENGTH, type ChangePoint } from './change-points.ts';
import { fingerprintLabel } from './hosts.ts';
import type { HistoryPoint, HistorySeries, RigEdit, RigHistory } from './series.ts';

const COLUMNS: Column[] = [
  { header: 'commit' },
  { header: 'date (UTC)' },
  { header: 'host' },
  { header: 'rig' },
  { header: 'median', align: 'right' },
  { header: '95% CI', align: 'right' },
  { header: 'n', align: 'right' },
  { header: 'change' },
];

/** "▲ +31% (p=0.0002) worse": the arrow is the direction of the number, the word what it means for this metric. */
export function formatChange(change: ChangePoint, better: 'lower' | 'higher'): string {
  const fraction = change.forwardChange;
  const worse = better === 'lower' ? fraction > 0 : fraction < 0;
  const p = formatP(change.pValue);
  return `${fraction >= 0 ? '▲' : '▼'} ${formatPercentChange(fraction)} (${p.startsWith('<') ? `p${p}` : `p=${p}`}) ${worse ? 'worse' : 'better'}`;
}

/** "✎ rig edited (70014f94 → 1574f8af): 10.0 → 13.0 ms (+30%)": the step that came with an edit, not called better or worse. */
export function formatRigEdit(edit: RigEdit, unit: string): string {
  const change = edit.before.mean === 0 ? '' : ` (${formatPercentChange(edit.after.mean / edit.before.mean - 1)})`;
  return `✎ rig edited (${shortSha(edit.from)} → ${shortSha(edit.to)}): ${formatNumber(edit.before.mean)} → ${formatNumber(edit.after.mean)} ${unit}${change}`;
}

/** "+31%", "−4.2%": one decimal below 10%. */
function formatPercentChange(fraction: number): string {
  const percent = Math.abs(fraction * 100);
  return `${fraction >= 0 ? '+' : '−'}${percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** The first 8 hex of a rig's sha256, as the compare warning shows 12 and the table has room for 8. */
function shortSha(sha256: string): string {
  return sha256.slice(0, 8);
}

/** First 7 of the commit; "*" when placed by time (unknown to git), "+" when the tree was dirty. */
function commitLabel(point: HistoryPoint): string {
  const commit = point.commit ? point.commit.slice(0, 7) : 'none';
  return `${commit}${point.dirty ? '+' : ''}${point.placed_by_time ? '*' : ''}`;
}

function dateLabel(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function seriesNote(series: HistorySeries): string {
  const count = series.points.length;
  const edits = series.rig_edits.length;
  const between = edits === 0 ? '' : `; the rig was edited ${edits === 1 ? 'once' : `${edits} times`} (✎): change points are sought between edits, never across one`;
  if (count < MIN_SERIES_LENGTH) return `${count} point${count === 1 ? '' : 's'}: too few to detect a change (at least ${MIN_SERIES_LENGTH} needed)${between}`;
  if (series.change_points.length === 0) return `no change point among ${count} points (p < ${CHANGE_POINT_DEFAULTS.maxPValue})${between}`;
  const n = series.change_points.length;
  return `${n} change point${n === 1 ? '' : 's'} among ${count} points (p < ${CHANGE_POINT_DEFAULTS.maxPValue})${between}`;
}

export function formatSeries(series: HistorySeries, opts: { maxWidth?: number } = {}): string {
  const changeAt = new Map(series.change_points.map((change) => [change.index, change]));
  const editAt = new Map(series.rig_edits.map((edit) => [edit.index, edit]));
  const rows = series.points.map((point, index) => {
    const change = changeAt.get(index);
    const edit = editAt.get(index);
    return [
      commitLabel(point),
      dateLabel(point.started_at),
      point.host,
      shortSha(point.rig_sha256),
      `${formatNumber(point.median)} ${series.unit}`,
      formatInterval(point.ci95_median),
      String(point.n),
      [edit ? formatRigEdit(edit, series.unit) : '', change ? formatChange(change, series.better) : ''].filter(Boolean).join('; '),
    ];
  });
  const heading = `${series.cell}  ${series.metric} (${series.unit}, ${series.better} is better)  host ${series.host}, ${fingerprintLabel(series.fingerprint)}\nclock: ${series.clock}`;
  return `${heading}\n${renderTable(COLUMNS, rows, opts)}\n${seriesNote(series)}`;
}

export function formatHistory(history: RigHistory, opts: { maxWidth?: number } = {}): string {
  const blocks = history.series.map((series) => formatSeries(series, opts));
  const legend: string[] = [];
  const points = history.series.flatMap((s) => s.points);
  if (points.some((p) => p.placed_by_time)) legend.push('* commit not in `git rev-list HEAD` (or none): placed by run time');
  if (points.some((p) => p.dirty)) legend.push('+ run from a tree with uncommitted changes');
  legend.push('rig: the first 8 hex of the sha256 of the rig file the run was made from');
  if (history.series.some((s) => s.rig_edits.length > 0)) {
    legend.push('✎ the rig file changed here: what is measured may have changed with it; a step at an edit is not called better or worse');
  }
  // hosts and fingerprints first: they are why one cell has several series
  const warnings = history.warnings.length > 0 ? [renderWarnings(history.warnings, opts)] : [];
  return [...warnings, ...blocks, ...(legend.length > 0 ? [legend.join('\n')] : [])].join('\n\n');
}
