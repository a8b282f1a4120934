/** `rigor history` for the terminal: one table per series, change points marked where they start. */
import { formatInterval, formatNumber, formatP } from '../report/number.ts';
import { renderTable, type Column } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import { CHANGE_POINT_DEFAULTS, MIN_SERIES_LENGTH, type ChangePoint } from './change-points.ts';
import { fingerprintLabel } from './hosts.ts';
import type { HistoryPoint, HistorySeries, RigHistory } from './series.ts';

const COLUMNS: Column[] = [
  { header: 'commit' },
  { header: 'date (UTC)' },
  { header: 'host' },
  { header: 'median', align: 'right' },
  { header: '95% CI', align: 'right' },
  { header: 'n', align: 'right' },
  { header: 'change' },
];

/** "▲ +31% (p=0.0002) worse": the arrow is the direction of the number, the word what it means for this metric. */
export function formatChange(change: ChangePoint, better: 'lower' | 'higher'): string {
  const percent = change.forwardChange * 100;
  const arrow = percent >= 0 ? '▲' : '▼';
  const sign = percent >= 0 ? '+' : '−';
  const worse = better === 'lower' ? percent > 0 : percent < 0;
  const size = Math.abs(percent) >= 10 ? Math.abs(percent).toFixed(0) : Math.abs(percent).toFixed(1);
  const p = formatP(change.pValue);
  return `${arrow} ${sign}${size}% (${p.startsWith('<') ? `p${p}` : `p=${p}`}) ${worse ? 'worse' : 'better'}`;
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
  if (count < MIN_SERIES_LENGTH) return `${count} point${count === 1 ? '' : 's'}: too few to detect a change (at least ${MIN_SERIES_LENGTH} needed)`;
  if (series.change_points.length === 0) return `no change point among ${count} points (p < ${CHANGE_POINT_DEFAULTS.maxPValue})`;
  const n = series.change_points.length;
  return `${n} change point${n === 1 ? '' : 's'} among ${count} points (p < ${CHANGE_POINT_DEFAULTS.maxPValue})`;
}

export function formatSeries(series: HistorySeries, opts: { maxWidth?: number } = {}): string {
  const changeAt = new Map(series.change_points.map((change) => [change.index, change]));
  const rows = series.points.map((point, index) => {
    const change = changeAt.get(index);
    return [
      commitLabel(point),
      dateLabel(point.started_at),
      point.host,
      `${formatNumber(point.median)} ${series.unit}`,
      formatInterval(point.ci95_median),
      String(point.n),
      change ? formatChange(change, series.better) : '',
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
  // hosts and fingerprints first: they are why one cell has several series
  const warnings = history.warnings.length > 0 ? [renderWarnings(history.warnings, opts)] : [];
  return [...warnings, ...blocks, ...(legend.length > 0 ? [legend.join('\n')] : [])].join('\n\n');
}
