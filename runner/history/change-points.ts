/**
 * Change points in a series of benchmark results, the way Hunter / Apache
 * Otava finds them (Fleming et al., "Hunter: Using Change Point Detection to
 * Hunt for Performance Regressions", ICPE 2023): E-divisive means (Matteson &
 * James 2014) over overlapping windows, each candidate split judged by
 * Student's t-test instead of a permutation test, then a merge step that
 * drops the weakest points until every one left is significant.
 */
import { pooledTTest, sideMoments, type SideMoments } from './student-t.ts';

export interface ChangePoint {
  /** First point of the new regime: series[index] is the first value after the change. */
  index: number;
  /** Mean and size of the segment before, from the previous change point (or the start). */
  before: { mean: number; n: number };
  /** Mean and size of the segment after, up to the next change point (or the end). */
  after: { mean: number; n: number };
  /** Two-sided Student's t-test of the two segments. */
  pValue: number;
  /** after.mean / before.mean − 1; 0 when before.mean is 0 (as Otava). */
  forwardChange: number;
}

export interface ChangePointOptions {
  /** Points in each sliding window the E-divisive search runs on (windows overlap by half). Default 50, Otava's. */
  windowLen?: number;
  /** A change point is kept only with p below this. Default 0.001, Otava's. */
  maxPValue?: number;
  /** ...and a relative change (max of forward and backward) above this. Default 0, Otava's: any size. */
  minMagnitude?: number;
}

export const CHANGE_POINT_DEFAULTS: Required<ChangePointOptions> = { windowLen: 50, maxPValue: 0.001, minMagnitude: 0 };

/**
 * Below this many points nothing is reported: with two or three points a side
 * a t-test can call any difference significant. (A rigor floor; Otava has none.)
 */
export const MIN_SERIES_LENGTH = 5;

export function detectChangePoints(series: readonly number[], opts: ChangePointOptions = {}): ChangePoint[] {
  const { windowLen, maxPValue, minMagnitude } = { ...CHANGE_POINT_DEFAULTS, ...opts };
  if (!Number.isInteger(windowLen) || windowLen < 2) throw new RangeError(`detectChangePoints: expected windowLen to be an integer >= 2, found ${windowLen}`);
  if (!(maxPValue > 0 && maxPValue <= 1)) throw new RangeError(`detectChangePoints: expected maxPValue in (0, 1], found ${maxPValue}`);
  if (!(minMagnitude >= 0)) throw new RangeError(`detectChangePoints: expected minMagnitude >= 0, found ${minMagnitude}`);
  series.forEach((value, i) => {
    if (!Number.isFinite(value)) throw new RangeError(`detectChangePoints: expected finite values, found ${value} at index ${i}`);
  });
  if (series.length < MIN_SERIES_LENGTH) return [];
  const values = Float64Array.from(series);
  const weak = splitStep(values, windowLen, firstPassPValue(maxPValue));
  return mergeStep(weak, values, maxPValue, minMagnitude).map((index, k, kept) => describe(values, index, kept[k - 1] ?? 0, kept[k + 1] ?? values.length));
}

/** The split step's looser threshold: the merge step re-tests every "weak" point at maxPValue (Otava's rule). */
function firstPassPValue(maxPValue: number): number {
  if (maxPValue < 0.05) return maxPValue * 10;
  return maxPValue < 0.5 ? maxPValue * 2 : maxPValue;
}

/** A split of [from, to) at index, tested: the two sides and their p-value. */
interface Split {
  before: SideMoments;
  after: SideMoments;
  pValue: number;
}

function testSplit(values: Float64Array, from: number, index: number, to: number): Split {
  const before = sideMoments(values, from, index);
  const after = sideMoments(values, index, to);
  return { before, after, pValue: pooledTTest(before, after).pValue };
}

/**
 * Split step: E-divisive on windows of windowLen points, each starting half a
 * window on (or at the last point found, if that is further); the union of
 * what every window finds are the weak change points.
 */
function splitStep(values: Float64Array, windowLen: number, pValue: number): number[] {
  const found = new Set<number>();
  const step = Math.floor(windowLen / 2);
  for (let start = 0; start < values.length; ) {
    const end = Math.min(start + windowLen, values.length);
    const inWindow = eDivisive(values.subarray(start, end), pValue).map((index) => index + start);
    for (const index of inWindow) found.add(index);
    start = Math.max(inWindow.at(-1) ?? 0, start + step);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * E-divisive with a t-test: repeatedly take the segment split with the
 * largest Q̂, keep it while the t-test of the two sides of its segment is
 * significant, stop at the first that is not.
 */
function eDivisive(window: Float64Array, pValue: number): number[] {
  const within = withinSums(window);
  const points: number[] = [];
  for (;;) {
    const bounds = [0, ...points, window.length];
    let best: { index: number; from: number; to: number; q: number } | null = null;
    for (let k = 0; k + 1 < bounds.length; k++) {
      const from = bounds[k]!;
      const to = bounds[k + 1]!;
      if (to - from < 2) continue;
      const candidate = bestSplit(within, from, to);
      if (best === null || candidate.q > best.q) best = { ...candidate, from, to };
    }
    if (best === null || testSplit(window, best.from, best.index, best.to).pValue > pValue) return points;
    points.push(best.index);
    points.sort((a, b) => a - b);
  }
}

/** W[a][b] = Σ_{a≤i<j<b} |z_i − z_j|: every sum Q̂ needs is read from this table in O(1). */
function withinSums(z: Float64Array): Float64Array[] {
  const n = z.length;
  const table = Array.from({ length: n + 1 }, () => new Float64Array(n + 1));
  for (let a = n - 1; a >= 0; a--) {
    // W(a, b) = W(a+1, b) + Σ_{a<j<b} |z_a − z_j|
    let row = 0;
    for (let b = a + 2; b <= n; b++) {
      row += Math.abs(z[a]! - z[b - 1]!);
      table[a]![b] = table[a + 1]![b]! + row;
    }
  }
  return table;
}

/**
 * argmax over from < τ < κ ≤ to of Q̂(X = z[from, τ), Y = z[τ, κ)) with α = 1:
 * Q̂ = 2/(n+m) Σ|X_i − Y_j| − 2m/((n+m)(n−1)) Σ_{i<k}|X_i − X_k| − 2n/((n+m)(m−1)) Σ_{j<k}|Y_j − Y_k|,
 * n = |X|, m = |Y|. The first maximum in (τ, κ) order wins a tie.
 */
function bestSplit(within: Float64Array[], from: number, to: number): { index: number; q: number } {
  let best = { index: from + 1, q: -Infinity };
  for (let tau = from + 1; tau < to; tau++) {
    const wx = within[from]![tau]!;
    const n = tau - from;
    for (let kappa = tau + 1; kappa <= to; kappa++) {
      const m = kappa - tau;
      const wy = within[tau]![kappa]!;
      const between = within[from]![kappa]! - wx - wy;
      const q = (2 * between) / (n + m) - (n > 1 ? (2 * m * wx) / ((n + m) * (n - 1)) : 0) - (m > 1 ? (2 * n * wy) / ((n + m) * (m - 1)) : 0);
      if (q > best.q) best = { index: tau, q };
    }
  }
  return best;
}

/** max(|after/before − 1|, |before/after − 1|), a side with mean 0 counting 0 (as Otava). */
function magnitude(split: Split): number {
  const forward = split.before.mean === 0 ? 0 : split.after.mean / split.before.mean - 1;
  const backward = split.after.mean === 0 ? 0 : split.before.mean / split.after.mean - 1;
  return Math.max(Math.abs(forward), Math.abs(backward));
}

/**
 * A regime must last MIN_SEGMENT_LENGTH points, except the newest one (where
 * a single point is all the evidence a fresh regression has yet). A rigor
 * addition to Otava's merge: without it one outlier that a window edge cuts
 * off becomes two change points, up and back down.
 */
export const MIN_SEGMENT_LENGTH = 2;

/**
 * Merge step: each point is tested between its neighbours; while one bounds
 * a too-short segment, is not significant (p ≥ maxPValue), or is no bigger
 * than minMagnitude, the weakest goes and its two neighbours are re-tested.
 */
function mergeStep(weak: number[], values: Float64Array, maxPValue: number, minMagnitude: number): number[] {
  const points = [...weak];
  const splits = points.map((index, k) => testSplit(values, points[k - 1] ?? 0, index, points[k + 1] ?? values.length));
  const retest = (k: number) => {
    if (k >= 0 && k < points.length) splits[k] = testSplit(values, points[k - 1] ?? 0, points[k]!, points[k + 1] ?? values.length);
  };
  for (;;) {
    const weakest = shortSegmentBound(points, splits) ?? weakestPoint(splits, maxPValue, minMagnitude);
    if (weakest === null) return points;
    points.splice(weakest, 1);
    splits.splice(weakest, 1);
    retest(weakest - 1);
    retest(weakest);
  }
}

/** Of the two points around the first too-short segment (the newest excepted), the one with the higher p; null when none is short. */
function shortSegmentBound(points: number[], splits: Split[]): number | null {
  for (let k = 0; k < points.length; k++) {
    const from = points[k - 1] ?? 0;
    if (points[k]! - from >= MIN_SEGMENT_LENGTH) continue;
    if (k === 0) return 0;
    return splits[k - 1]!.pValue > splits[k]!.pValue ? k - 1 : k;
  }
  return null;
}

/** Otava's choice: the point with the highest p if any is not significant, else the smallest change if it is too small; null when all pass. */
function weakestPoint(splits: Split[], maxPValue: number, minMagnitude: number): number | null {
  if (splits.length === 0) return null;
  let weakest = 0;
  for (let k = 1; k < splits.length; k++) if (splits[k]!.pValue > splits[weakest]!.pValue) weakest = k;
  if (splits[weakest]!.pValue >= maxPValue) return weakest;
  weakest = 0;
  for (let k = 1; k < splits.length; k++) if (magnitude(splits[k]!) < magnitude(splits[weakest]!)) weakest = k;
  return magnitude(splits[weakest]!) > minMagnitude ? null : weakest;
}

function describe(values: Float64Array, index: number, from: number, to: number): ChangePoint {
  const { before, after, pValue } = testSplit(values, from, index, to);
  return {
    index,
    before: { mean: before.mean, n: before.n },
    after: { mean: after.mean, n: after.n },
    pValue,
    forwardChange: before.mean === 0 ? 0 : after.mean / before.mean - 1,
  };
}
