/**
 * A rig's history page: per metric (and clock), the median with its CI of each
 * cell across the rig's artifacts in commit order, where the rig file was
 * edited, and the change points runner/history finds between edits. Pure.
 */
import type { ChangePoint } from '../../history/change-points.ts';
import { buildHistory, type HistoryPoint, type HistorySeries, type RigEdit } from '../../history/series.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { pointerOf } from './json-pointer.ts';
import { useLogScale } from './log-scale.ts';
import type { Shown } from './source.ts';

export interface HistoryValue {
  /** Recomputed from the raw samples (as runner/history does), linked to them. */
  median: Shown;
  low: number | null;
  high: number | null;
  /** The CI as stored in the artifact's summary, when history took it from there. */
  storedCi: { low: Shown; high: Shown } | null;
  n: number;
  change: ChangePoint | null;
  /** Set on the first value made from an edited rig file (runner/history/series.ts). */
  rigEdit: RigEdit | null;
}

export interface HistoryColumn {
  key: string;
  cell: string;
  host: string;
  /** Set when the host ran with several fingerprints: which one this series is ("none" for older artifacts). */
  fingerprint: string | null;
}

export interface HistoryMetric {
  metric: string;
  unit: string;
  better: 'lower' | 'higher';
  clock: string;
  log: boolean;
  columns: HistoryColumn[];
  /** One row per artifact holding this metric, in the history's order; values follow columns. */
  rows: { artifact: ArtifactRef; placedByTime: boolean; values: (HistoryValue | null)[] }[];
  changes: { column: HistoryColumn; artifact: ArtifactRef; change: ChangePoint }[];
  /** Where the rig file changed within a column's series: change points are never sought across one. */
  edits: { column: HistoryColumn; artifact: ArtifactRef; edit: RigEdit }[];
}

export interface HistoryPage {
  rig: string;
  artifactCount: number;
  /** Why a cell has several series: which fields set hosts and fingerprints apart (runner/history/hosts.ts). */
  warnings: string[];
  metrics: HistoryMetric[];
}

/**
 * One order over every artifact of the series: each series is in history
 * order, so an artifact not yet placed goes right after its predecessor in its series.
 */
function artifactOrder(series: HistorySeries[]): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  for (const { points } of series) {
    let last = -1;
    for (const point of points) {
      if (placed.has(point.artifact)) {
        last = order.indexOf(point.artifact);
        continue;
      }
      order.splice(last + 1, 0, point.artifact);
      placed.add(point.artifact);
      last += 1;
    }
  }
  return order;
}

function historyValue(
  input: ArtifactInput,
  series: HistorySeries,
  point: HistoryPoint,
  change: ChangePoint | null,
  rigEdit: RigEdit | null,
): HistoryValue {
  const index = input.artifact.cells.findIndex((cell) => cell.id === series.cell);
  const at = (...tail: (string | number)[]) => pointerOf('cells', index, 'metrics', series.metric, ...tail);
  const stored = (value: number, bound: 'low' | 'high'): Shown => ({
    artifactPath: input.path,
    pointer: at('summary', 'ci95_median', bound),
    value,
    unit: series.unit,
    format: 'value',
  });
  return {
    median: { artifactPath: input.path, pointer: at('samples'), value: point.median, unit: series.unit, format: 'value', derived: 'median' },
    low: point.ci95_median?.low ?? null,
    high: point.ci95_median?.high ?? null,
    storedCi:
      point.ci_source === 'summary' && point.ci95_median
        ? { low: stored(point.ci95_median.low, 'low'), high: stored(point.ci95_median.high, 'high') }
        : null,
    n: point.n,
    change,
    rigEdit,
  };
}

/** `artifacts` are one rig's; `commitOrder` oldest first (runner/history/commit-order.ts). */
export function historyPage(rig: string, artifacts: ArtifactInput[], commitOrder: readonly string[]): HistoryPage {
  // The stored CI is used when it matches the samples: a history of a thousand artifacts must build in seconds.
  const history = buildHistory(artifacts, commitOrder, { ci: 'summary' });
  const byPath = new Map(artifacts.map((input) => [input.path, input]));
  const refs = new Map(artifacts.map((input) => [input.path, artifactRef(input)]));
  const severalFingerprints = new Set(history.hosts.filter((host) => host.fingerprints.length > 1).map((host) => host.id));
  const groups = new Map<string, HistorySeries[]>();
  for (const series of history.series) {
    const key = JSON.stringify([series.metric, series.clock, series.unit]);
    groups.set(key, [...(groups.get(key) ?? []), series]);
  }
  const metrics = [...groups.values()].map((group): HistoryMetric => {
    const first = group[0]!;
    const columns = group.map((series): HistoryColumn => {
      const fingerprint = severalFingerprints.has(series.host) ? (series.fingerprint ?? 'none') : null;
      return { key: `${series.cell}@${series.host}${fingerprint ? `#${fingerprint}` : ''}`, cell: series.cell, host: series.host, fingerprint };
    });
    const order = artifactOrder(group);
    const rowOf = new Map(order.map((path, i) => [path, i]));
    const rows: HistoryMetric['rows'] = order.map((path) => ({ artifact: refs.get(path)!, placedByTime: false, values: columns.map(() => null) }));
    const changes: HistoryMetric['changes'] = [];
    const edits: HistoryMetric['edits'] = [];
    group.forEach((series, column) => {
      const changeAt = new Map(series.change_points.map((change) => [change.index, change]));
      const editAt = new Map(series.rig_edits.map((edit) => [edit.index, edit]));
      series.points.forEach((point, i) => {
        const row = rows[rowOf.get(point.artifact)!]!;
        const change = changeAt.get(i) ?? null;
        const edit = editAt.get(i) ?? null;
        row.placedByTime = point.placed_by_time;
        row.values[column] = historyValue(byPath.get(point.artifact)!, series, point, change, edit);
        if (change) changes.push({ column: columns[column]!, artifact: row.artifact, change });
        if (edit) edits.push({ column: columns[column]!, artifact: row.artifact, edit });
      });
    });
    const values = group.flatMap((series) => series.points.flatMap((p) => [p.median, ...(p.ci95_median ? [p.ci95_median.low, p.ci95_median.high] : [])]));
    return { metric: first.metric, unit: first.unit, better: first.better, clock: first.clock, log: useLogScale(values), columns, rows, changes, edits };
  });
  return { rig, artifactCount: artifacts.length, warnings: history.warnings, metrics };
}
