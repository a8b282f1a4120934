/**
 * A rig's history: for each cell, metric, host and host fingerprint, one point per artifact,
 * in commit order, with the rig's edits and the change points of the medians between them. Pure.
 */
import type { Artifact } from '../artifact/schema.ts';
import { InputError } from '../../base/errors.ts';
import { bootstrapCI, median, type Interval } from '../stats/index.ts';
import { detectChangePoints, type ChangePoint } from './change-points.ts';
import { historyHostWarnings, historyHosts, type HistoryHost } from './hosts.ts';

export interface HistoryPoint {
  /** The artifact file the point comes from. */
  artifact: string;
  /** JSON path of the raw samples in that file, e.g. "cells[2].metrics.wall_ms.samples". */
  samples_path: string;
  commit: string | null;
  /** The tree had uncommitted changes: the code measured is not exactly `commit`. */
  dirty: boolean;
  /** sha256 of the rig file the run was made from: an edit of the rig changes what is measured. */
  rig_sha256: string;
  started_at: string;
  host: string;
  /** host.fingerprint.id; null for an artifact written before rigor recorded fingerprints. */
  fingerprint: string | null;
  /** Median of the raw samples (type 7), recomputed: a stored summary is not trusted. */
  median: number;
  /** Seeded bootstrap 95% CI of the median; null when n < 2. */
  ci95_median: Interval | null;
  /** Where the CI was taken from: bootstrapped from the samples here, or the artifact's summary.ci95_median (HistoryOptions.ci). */
  ci_source: 'samples' | 'summary';
  n: number;
  /** The commit is unknown to the commit order (another branch, rewritten, or none): placed among the others by started_at. */
  placed_by_time: boolean;
}

export interface HistorySeries {
  cell: string;
  metric: string;
  /** One host per series: numbers from two machines are never one line. */
  host: string;
  /**
   * One fingerprint per series: a host id whose CPU, microcode, kernel build,
   * DMI, memory or virtualization changed is two lines (hosts.ts says what
   * changed); null: older artifacts that record none, never taken for either.
   */
  fingerprint: string | null;
  unit: string;
  better: 'lower' | 'higher';
  /** A metric whose clock or unit changed starts a new series: two clocks are never one line. */
  clock: string;
  points: HistoryPoint[];
  /**
   * Where the rig file changed between one point and the next (its sha256):
   * index is the first point made from the edited rig. Change points are
   * found between edits, never across one: a step at an edit may be the edit.
   */
  rig_edits: RigEdit[];
  /** Change points of the medians (detectChangePoints defaults), found between rig edits; index is into points. */
  change_points: ChangePoint[];
}

export interface RigEdit {
  /** First point made from the edited rig. */
  index: number;
  /** The rig's sha256 before and after. */
  from: string;
  to: string;
  /** Mean of the medians from the previous edit (or the start) up to this one, and from this one to the next: the step that came with the edit. */
  before: { mean: number; n: number };
  after: { mean: number; n: number };
}

export interface RigHistory {
  /** null when there were no artifacts. */
  rig: string | null;
  /** Each host id with the fingerprints it ran with, and what changed between them. */
  hosts: HistoryHost[];
  /** What sets hosts and fingerprints apart, by field: why there is more than one series per cell and metric. */
  warnings: string[];
  series: HistorySeries[];
}

export interface HistoryOptions {
  /**
   * 'samples' (default): bootstrap every CI from the raw samples, about 0.5 ms
   * a point of 20 samples. 'summary': take the artifact's stored
   * summary.ci95_median when its n and median agree with the samples (the
   * same seeded bootstrap wrote it), else bootstrap; for views of thousands
   * of points that must render in seconds.
   */
  ci?: 'samples' | 'summary';
}

export interface ArtifactFile {
  path: string;
  artifact: Artifact;
}

/**
 * Every ok cell's metric with samples becomes a point. Points whose commit is
 * in `commitOrder` (oldest first) are ordered by it, then by start time; each
 * other point goes just before the first ordered point that started after it.
 */
export function buildHistory(artifacts: readonly ArtifactFile[], commitOrder: readonly string[], opts: HistoryOptions = {}): RigHistory {
  const rig = artifacts[0]?.artifact.rig.name ?? null;
  for (const { path, artifact } of artifacts) {
    if (artifact.rig.name !== rig) {
      throw new InputError(`${path}: rig.name: expected "${rig}" (the rig of ${artifacts[0]!.path}), found "${artifact.rig.name}"`);
    }
  }
  const position = new Map(commitOrder.map((commit, index) => [commit, index]));
  const groups = new Map<string, Omit<HistorySeries, 'change_points' | 'rig_edits'>>();
  for (const { path, artifact } of artifacts) {
    artifact.cells.forEach((cell, cellIndex) => {
      if (cell.status !== 'ok') return;
      for (const [metric, result] of Object.entries(cell.metrics)) {
        if (result.samples.length === 0) continue;
        const host = artifact.host.id;
        const fingerprint = artifact.host.fingerprint?.id ?? null;
        const key = JSON.stringify([cell.id, metric, host, fingerprint, result.unit, result.clock]);
        let series = groups.get(key);
        if (!series) {
          series = { cell: cell.id, metric, host, fingerprint, unit: result.unit, better: result.better, clock: result.clock, points: [] };
          groups.set(key, series);
        }
        const commit = artifact.git.commit;
        const middle = median(result.samples);
        const stored = result.summary;
        const useStored = opts.ci === 'summary' && stored !== null && stored.n === result.samples.length && stored.median === middle;
        series.points.push({
          artifact: path,
          samples_path: `cells[${cellIndex}].metrics.${metric}.samples`,
          commit,
          dirty: artifact.git.dirty,
          rig_sha256: artifact.rig.sha256,
          started_at: artifact.run.started_at,
          host,
          fingerprint,
          median: middle,
          ci95_median: useStored ? stored.ci95_median : bootstrapCI(result.samples, 'median'),
          ci_source: useStored ? 'summary' : 'samples',
          n: result.samples.length,
          placed_by_time: commit === null || !position.has(commit),
        });
      }
    });
  }
  const series = [...groups.values()].map((group) => {
    const points = orderPoints(group.points, position);
    return { ...group, points, ...changesBetweenEdits(points) };
  });
  const hosts = historyHosts(artifacts);
  return { rig, hosts, warnings: historyHostWarnings(hosts), series };
}

/** The mean of values[from, to) and how many. */
function segment(values: readonly number[], from: number, to: number): { mean: number; n: number } {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i]!;
  return { mean: sum / (to - from), n: to - from };
}

/**
 * The rig edits of a series, and its change points found in each stretch
 * between edits (so none spans an edit), indexed into the whole series.
 */
function changesBetweenEdits(points: readonly HistoryPoint[]): Pick<HistorySeries, 'rig_edits' | 'change_points'> {
  const values = points.map((p) => p.median);
  const at = points.flatMap((p, i) => (i > 0 && p.rig_sha256 !== points[i - 1]!.rig_sha256 ? [i] : []));
  const bounds = [0, ...at, points.length];
  const rig_edits = at.map((index, k) => ({
    index,
    from: points[index - 1]!.rig_sha256,
    to: points[index]!.rig_sha256,
    before: segment(values, bounds[k]!, index),
    after: segment(values, index, bounds[k + 2]!),
  }));
  const change_points = bounds.slice(0, -1).flatMap((from, k) =>
    detectChangePoints(values.slice(from, bounds[k + 1])).map((change) => ({ ...change, index: change.index + from })),
  );
  return { rig_edits, change_points };
}

function byTime(a: HistoryPoint, b: HistoryPoint): number {
  return Date.parse(a.started_at) - Date.parse(b.started_at) || (a.artifact < b.artifact ? -1 : a.artifact > b.artifact ? 1 : 0);
}

function orderPoints(points: HistoryPoint[], position: ReadonlyMap<string, number>): HistoryPoint[] {
  const ordered = points
    .filter((p) => !p.placed_by_time)
    .sort((a, b) => position.get(a.commit!)! - position.get(b.commit!)! || byTime(a, b));
  const byTimeOnly = points.filter((p) => p.placed_by_time).sort(byTime);
  const result: HistoryPoint[] = [];
  let next = 0;
  for (const point of ordered) {
    while (next < byTimeOnly.length && byTime(byTimeOnly[next]!, point) < 0) result.push(byTimeOnly[next++]!);
    result.push(point);
  }
  return result.concat(byTimeOnly.slice(next));
}
