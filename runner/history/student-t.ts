/**
 * Student's two-sample t-test with pooled variance (Student 1908), the test
 * Hunter/Otava puts in place of E-divisive's permutation test: deterministic
 * and cheap, and it works with a handful of points per side.
 */
import { gammaln } from 'simple-statistics';

/** One side of a split: its size, mean and sum of squared deviations from that mean. */
export interface SideMoments {
  n: number;
  mean: number;
  /** Σ (x − mean)²: (n − 1)·s² with the n − 1 sample variance. */
  sumSquares: number;
}

export interface TTestResult {
  t: number;
  df: number;
  /** Two-sided p-value. */
  pValue: number;
}

/** Moments of values[from, to), by two passes (the mean first) so large offsets cost no precision. */
export function sideMoments(values: ArrayLike<number>, from: number, to: number): SideMoments {
  const n = to - from;
  if (n < 1) throw new RangeError(`sideMoments: expected a non-empty range, found [${from}, ${to})`);
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  const mean = sum / n;
  let sumSquares = 0;
  for (let i = from; i < to; i++) sumSquares += ((values[i] as number) - mean) ** 2;
  return { n, mean, sumSquares };
}

/**
 * t = (mean_b − mean_a) / √(s_p²(1/n_a + 1/n_b)), s_p² = (SS_a + SS_b) / (n_a + n_b − 2).
 * With no degrees of freedom (two points) nothing can be told: p = 1. With
 * no spread at all the answer is certain either way: p = 0 when the means
 * differ, 1 when they are equal.
 */
export function pooledTTest(a: SideMoments, b: SideMoments): TTestResult {
  const df = a.n + b.n - 2;
  if (df <= 0) return { t: 0, df: Math.max(df, 0), pValue: 1 };
  const pooledVariance = (a.sumSquares + b.sumSquares) / df;
  const difference = b.mean - a.mean;
  if (pooledVariance === 0) {
    return difference === 0 ? { t: 0, df, pValue: 1 } : { t: Math.sign(difference) * Infinity, df, pValue: 0 };
  }
  const t = difference / Math.sqrt(pooledVariance * (1 / a.n + 1 / b.n));
  return { t, df, pValue: studentTwoSidedP(t, df) };
}

/** P(|T| ≥ |t|) for Student's t with df degrees of freedom: I_{df/(df+t²)}(df/2, 1/2). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTwoSidedP: expected df > 0, found ${df}`);
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** I_x(a, b), from the continued fraction on whichever side converges fast (Numerical Recipes §6.4). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedIncompleteBeta: expected x in [0, 1], found ${x}`);
  if (x === 0 || x === 1) return x;
  // x^a (1−x)^b / (a B(a, b)), in logs so large a or b do not overflow
  const front = Math.exp(gammaln(a + b) - gammaln(a) - gammaln(b) + a * Math.log(x) + b * Math.log1p(-x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

const MAX_ITERATIONS = 300;
const EPSILON = 1e-15;
/** Stands in for 0 in a denominator of Lentz's method. */
const TINY = 1e-300;

/** The continued fraction of I_x(a, b) by the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    // even step: d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m))
    let coefficient = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + coefficient * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + coefficient / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // odd step: d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1))
    coefficient = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + coefficient * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + coefficient / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < EPSILON) return h;
  }
  return h;
}
