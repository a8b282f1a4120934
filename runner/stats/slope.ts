/**
 * The per-call cost of a micro-benchmark timed in batches (criterion.rs's
 * linear sampling): batch i runs xᵢ calls in time yᵢ, and the cost of one call
 * is the slope of the line through the origin fitted to the (xᵢ, yᵢ), with a
 * percentile bootstrap over the batches for its interval.
 */
import type { Slope } from '../artifact/schema.ts';
import { percentileInterval, resolveOptions, type BootstrapOptions, type Interval } from './bootstrap.ts';
import { assertFiniteSamples } from './finite.ts';
import { approximateSlopes } from './large-n.ts';
import { createRng } from './random.ts';

/** The name a fit goes by in an artifact. */
export const SLOPE_METHOD = 'ols-through-origin';

/** Ordinary least squares through the origin (criterion.rs analysis): β = Σ xᵢyᵢ / Σ xᵢ². */
export function slopeThroughOrigin(x: readonly number[], y: readonly number[]): number {
  assertBatches(x, y);
  let xy = 0;
  let xx = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
  }
  return xy / xx;
}

/** Coefficient of determination of y ≈ βx: R² = 1 − Σ (yᵢ − βxᵢ)² / Σ (yᵢ − ȳ)²; null when every yᵢ is equal (Σ (yᵢ − ȳ)² = 0). */
export function rSquared(x: readonly number[], y: readonly number[], slope: number): number | null {
  assertBatches(x, y);
  const meanY = y.reduce((sum, yi) => sum + yi, 0) / y.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    residual += (y[i]! - slope * x[i]!) ** 2;
    total += (y[i]! - meanY) ** 2;
  }
  return total === 0 ? null : 1 - residual / total;
}

/**
 * Percentile bootstrap over batches (pairs bootstrap, Efron & Tibshirani 1993,
 * ch. 9): n batches drawn with replacement, β of each resample, the interval
 * between the (1−level)/2 and (1+level)/2 quantiles of those β. Seeded; null when n < 2.
 */
export function bootstrapSlopeCI(x: readonly number[], y: readonly number[], opts: BootstrapOptions = {}): Interval | null {
  assertBatches(x, y);
  if (x.length < 2) return null;
  const { seed, resamples, level, exactMaxN } = resolveOptions(opts);
  return percentileInterval(slopesOf(x, y, resamples, createRng(seed), exactMaxN), level);
}

/**
 * Interval of β(candidate) / β(baseline), each side's batches resampled
 * independently from one seeded generator (baseline first). Null when either
 * side has fewer than 2 batches.
 */
export function bootstrapSlopeRatioCI(
  baseline: { x: readonly number[]; y: readonly number[] },
  candidate: { x: readonly number[]; y: readonly number[] },
  opts: BootstrapOptions = {},
): Interval | null {
  assertBatches(baseline.x, baseline.y, 'baseline');
  assertBatches(candidate.x, candidate.y, 'candidate');
  if (baseline.x.length < 2 || candidate.x.length < 2) return null;
  const { seed, resamples, level, exactMaxN } = resolveOptions(opts);
  const rng = createRng(seed);
  const base = slopesOf(baseline.x, baseline.y, resamples, rng, exactMaxN);
  const ratios = slopesOf(candidate.x, candidate.y, resamples, rng, exactMaxN);
  for (let r = 0; r < resamples; r++) {
    const denominator = base[r] as number;
    if (denominator === 0) return null;
    ratios[r] = (ratios[r] as number) / denominator;
  }
  return percentileInterval(ratios, level);
}

/** A batch's total time from what an artifact stores: its time per call times its calls. */
export function batchTimes(iterations: readonly number[], perCall: readonly number[]): number[] {
  assertBatches(iterations, perCall);
  return perCall.map((time, i) => time * iterations[i]!);
}

/** The slope block an artifact stores beside a batched metric's summary; null when there are no batches. `intervals: false` leaves out its bootstrap CI (null). */
export function summarizeBatches(iterations: readonly number[], perCall: readonly number[], { intervals = true }: { intervals?: boolean } = {}): Slope | null {
  if (iterations.length === 0 && perCall.length === 0) return null;
  const y = batchTimes(iterations, perCall);
  const estimate = slopeThroughOrigin(iterations, y);
  return { method: SLOPE_METHOD, estimate, ci95: intervals ? bootstrapSlopeCI(iterations, y) : null, r2: rSquared(iterations, y, estimate) };
}

/** β of each resample: n draws each up to exactMaxN batches, the large-sample approximation (large-n.ts) above. */
function slopesOf(x: readonly number[], y: readonly number[], resamples: number, rng: () => number, exactMaxN: number): Float64Array {
  return x.length > exactMaxN ? approximateSlopes(x, y, resamples, rng) : resampledSlopes(x, y, resamples, rng);
}

/** β of each of `resamples` resamples of the batches: indices drawn uniformly with replacement, as bootstrap.ts draws. */
function resampledSlopes(x: readonly number[], y: readonly number[], resamples: number, rng: () => number): Float64Array {
  const n = x.length;
  const slopes = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let xy = 0;
    let xx = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rng() * n);
      xy += x[j]! * y[j]!;
      xx += x[j]! * x[j]!;
    }
    slopes[r] = xy / xx;
  }
  return slopes;
}

/** Batches are pairs: as many call counts as times, at least one, every count > 0, every number finite. */
function assertBatches(x: readonly number[], y: readonly number[], what = 'batches'): void {
  assertFiniteSamples(x, `${what}: iterations`);
  assertFiniteSamples(y, `${what}: times`);
  if (x.length !== y.length) throw new RangeError(`${what}: expected as many iterations as times, found ${x.length} and ${y.length}`);
  if (x.length === 0) throw new RangeError(`${what}: expected at least one batch, found none`);
  const empty = x.findIndex((xi) => !(xi > 0));
  if (empty >= 0) throw new RangeError(`${what}: iterations[${empty}]: expected a count > 0, found ${x[empty]}`);
}
