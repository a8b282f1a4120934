/**
 * Two-sided Wilcoxon signed-rank test (Wilcoxon 1945) on paired differences:
 * is the median difference zero? Used on per-round log ratios of an A/B run,
 * where every round measured both sides side by side.
 */
import { errorFunction } from 'simple-statistics';
import { twoSidedFromCounts } from './exact-p.ts';
import { assertFiniteSamples } from './finite.ts';

/** The exact null distribution is enumerated up to this many non-zero differences when none are tied. */
const EXACT_MAX_N = 30;

export interface WilcoxonResult {
  /** W+ : the sum of the ranks of the positive differences (mid-ranks for ties). */
  wPlus: number;
  /** Non-zero differences the test used (zeros are dropped, Wilcoxon's convention). */
  n: number;
  /** Normal-approximation z (positive when differences tend positive); null when p is exact. */
  z: number | null;
  /** Two-sided p-value; 1 when no difference is non-zero. */
  p: number;
}

export function wilcoxonSignedRank(differences: readonly number[]): WilcoxonResult {
  assertFiniteSamples(differences, 'differences');
  const nonZero = differences.filter((d) => d !== 0);
  const n = nonZero.length;
  if (n === 0) return { wPlus: 0, n: 0, z: null, p: 1 };
  const { wPlus, tieTerm } = signedRanks(nonZero);
  if (n <= EXACT_MAX_N && tieTerm === 0) return { wPlus, n, z: null, p: exactTwoSidedP(wPlus, n) };
  return { wPlus, n, ...normalApproximation(wPlus, n, tieTerm) };
}

/** W+ from the mid-ranks of |d|, and Σ(t³ − t) over groups of t tied |d|. */
function signedRanks(differences: readonly number[]): { wPlus: number; tieTerm: number } {
  const sorted = differences.map((d) => ({ abs: Math.abs(d), positive: d > 0 })).sort((x, y) => x.abs - y.abs);
  let wPlus = 0;
  let tieTerm = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.abs === sorted[i]!.abs) j++;
    const tied = j - i;
    // Ranks i+1 … j share their mean.
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k]!.positive) wPlus += midRank;
    tieTerm += tied * tied * tied - tied;
    i = j;
  }
  return { wPlus, tieTerm };
}

/**
 * μ = n(n+1)/4, σ² = n(n+1)(2n+1)/24 − Σ(t³−t)/48, z = (|W+ − μ| − ½)/σ, p = 2(1 − Φ(|z|)).
 */
function normalApproximation(wPlus: number, n: number, tieTerm: number): { z: number; p: number } {
  const mu = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const distance = Math.max(0, Math.abs(wPlus - mu) - 0.5);
  if (variance <= 0 || distance === 0) return { z: 0, p: 1 };
  const zAbs = distance / Math.sqrt(variance);
  const p = Math.min(1, Math.max(0, 1 - errorFunction(zAbs / Math.SQRT2)));
  return { z: wPlus < mu ? -zAbs : zAbs, p };
}

/** p = 2·min(P(W+ ≤ w), P(W+ ≥ w)) under the exact null distribution, capped at 1. */
function exactTwoSidedP(wPlus: number, n: number): number {
  return twoSidedFromCounts(wDistribution(n), wPlus);
}

/**
 * Number of the 2^n sign assignments giving each W+ = 0..n(n+1)/2: rank r is
 * either positive (adds r) or not, so each rank convolves the distribution with
 * {0, r}. Counts stay below 2^30, exact in a double.
 */
function wDistribution(n: number): Float64Array {
  const max = (n * (n + 1)) / 2;
  const counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    for (let w = max; w >= rank; w--) counts[w]! += counts[w - rank] as number;
  }
  return counts;
}
