/**
 * Two-sided Mann-Whitney U test (Mann & Whitney 1947): do values of `a` tend
 * to be larger or smaller than values of `b`? No assumption of normality,
 * which benchmark timings rarely satisfy.
 */
import { errorFunction } from 'simple-statistics';
import { twoSidedFromCounts } from './exact-p.ts';
import { assertFiniteSamples } from './finite.ts';
import { sortedAscending } from './percentile.ts';

/** The exact null distribution is enumerated when both samples are this small and nothing is tied. */
const EXACT_MAX_N = 20;

export interface MannWhitneyResult {
  /** U of `a`: pairs (a_i, b_j) with a_i > b_j, ties counting 1/2. U of `b` is n_a·n_b − u. */
  u: number;
  /** Normal-approximation z (positive when `a` tends larger); null when p is exact. */
  z: number | null;
  /** Two-sided p-value. */
  p: number;
}

export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError(`mannWhitneyU: expected two non-empty samples, found sizes ${a.length} and ${b.length}`);
  }
  assertFiniteSamples(a, 'a');
  assertFiniteSamples(b, 'b');
  return mannWhitneyUOfSorted(sortedAscending(a), sortedAscending(b));
}

/** mannWhitneyU of two non-empty samples of finite numbers, each already sorted ascending. */
export function mannWhitneyUOfSorted(a: Float64Array, b: Float64Array): MannWhitneyResult {
  const m = a.length;
  const n = b.length;
  const { rankSumA, tieTerm } = rankSums(a, b);
  // U_a = R_a − n_a(n_a+1)/2
  const u = rankSumA - (m * (m + 1)) / 2;
  if (m <= EXACT_MAX_N && n <= EXACT_MAX_N && tieTerm === 0) {
    return { u, z: null, p: exactTwoSidedP(u, m, n) };
  }
  return { u, ...normalApproximation(u, m, n, tieTerm) };
}

/** Mid-rank sum of `a` in the pooled sample, and Σ(t³ − t) over groups of t tied values; both sorted ascending. */
function rankSums(sa: Float64Array, sb: Float64Array): { rankSumA: number; tieTerm: number } {
  let i = 0;
  let j = 0;
  let rankSumA = 0;
  let tieTerm = 0;
  while (i < sa.length || j < sb.length) {
    const value = Math.min(i < sa.length ? (sa[i] as number) : Infinity, j < sb.length ? (sb[j] as number) : Infinity);
    const firstRank = i + j + 1;
    let inA = 0;
    while (i < sa.length && sa[i] === value) {
      i++;
      inA++;
    }
    while (j < sb.length && sb[j] === value) j++;
    const tied = i + j + 1 - firstRank;
    rankSumA += inA * (firstRank + (tied - 1) / 2);
    tieTerm += tied * tied * tied - tied;
  }
  return { rankSumA, tieTerm };
}

/**
 * Normal approximation with tie correction and continuity correction:
 * μ = mn/2, σ² = mn/12 · ((N+1) − Σ(t³−t)/(N(N−1))), z = (|U−μ| − ½)/σ, p = 2(1 − Φ(|z|)).
 */
function normalApproximation(u: number, m: number, n: number, tieTerm: number): { z: number; p: number } {
  const total = m + n;
  const mu = (m * n) / 2;
  const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  const distance = Math.max(0, Math.abs(u - mu) - 0.5);
  // Every value tied (σ = 0): every arrangement gives the same U, so nothing differs.
  if (variance <= 0 || distance === 0) return { z: 0, p: 1 };
  const zAbs = distance / Math.sqrt(variance);
  // 2(1 − Φ(|z|)) = 1 − erf(|z|/√2)
  const p = Math.min(1, Math.max(0, 1 - errorFunction(zAbs / Math.SQRT2)));
  return { z: u < mu ? -zAbs : zAbs, p };
}

/** p = 2·min(P(U ≤ u), P(U ≥ u)) under the exact null distribution, capped at 1. */
function exactTwoSidedP(u: number, m: number, n: number): number {
  return twoSidedFromCounts(uDistribution(m, n), u);
}

/**
 * Number of orderings of m a's and n b's giving each U = 0..mn, by the
 * recurrence f(m, n, u) = f(m−1, n, u−n) + f(m, n−1, u) (Mann & Whitney 1947):
 * the largest value is either an a (beating all n b's) or a b.
 * Counts stay below C(40, 20) ≈ 1.4e11, exact in a double.
 */
function uDistribution(m: number, n: number): Float64Array {
  // f[i][j] is the distribution for i a's and j b's.
  const f: Float64Array[][] = [];
  for (let i = 0; i <= m; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n; j++) {
      const dist = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) dist[0] = 1;
      else {
        const aLast = f[i - 1]![j]!;
        const bLast = row[j - 1]!;
        for (let k = 0; k < dist.length; k++) {
          dist[k] = (k >= j ? (aLast[k - j] ?? 0) : 0) + (bLast[k] ?? 0);
        }
      }
      row.push(dist);
    }
    f.push(row);
  }
  return f[m]![n]!;
}
