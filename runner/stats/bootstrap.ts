/**
 * Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13),
 * seeded so the same samples always give the same interval. Above
 * BOOTSTRAP_EXACT_MAX_N samples each resample's statistic is drawn from its
 * large-sample distribution instead of from n draws (large-n.ts).
 */
import { assertFiniteSamples } from './finite.ts';
import { quantileSorted, sortedAscending } from './percentile.ts';
import { approximateMeansAndMedians } from './large-n.ts';
import { createRng } from './random.ts';

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Seed of the resampling generator. Default: BOOTSTRAP_SEED. */
  seed?: number;
  /** Number of bootstrap resamples. Default: BOOTSTRAP_RESAMPLES. */
  resamples?: number;
  /** Confidence level of the interval, in (0, 1). Default: BOOTSTRAP_LEVEL. */
  level?: number;
  /** Above this many samples a resample's statistic is drawn from its large-sample distribution (large-n.ts). Default: BOOTSTRAP_EXACT_MAX_N. */
  exactMaxN?: number;
}

export type BootstrapStatistic = 'mean' | 'median';

/** "rigo" in ASCII: a fixed seed, so a summary recomputed from an artifact's samples is identical. */
export const BOOTSTRAP_SEED = 0x7269676f;
/** Enough that the 2.5% and 97.5% percentiles rest on 50 resamples each. */
export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_LEVEL = 0.95;
/**
 * Up to this many samples (or batches) every resample is n draws; above it,
 * where n draws per resample cost seconds (2,000 × 1,000,000 draws ≈ 13 s),
 * the normal approximation of large-n.ts. Committed artifacts stay far below
 * (the 2 MB write limit keeps about 70,000 samples), so theirs are all exact.
 */
export const BOOTSTRAP_EXACT_MAX_N = 100_000;

/** Interval of stat(samples) from the percentiles of stat over resamples; null when n < 2. */
export function bootstrapCI(
  samples: readonly number[],
  statistic: BootstrapStatistic,
  opts: BootstrapOptions = {},
): Interval | null {
  return bootstrapMeanAndMedianCI(samples, opts)?.[statistic] ?? null;
}

/**
 * bootstrapCI of the mean and of the median from one set of resamples: the
 * same two intervals as two bootstrapCI calls, for the cost of one.
 */
export function bootstrapMeanAndMedianCI(
  samples: readonly number[],
  opts: BootstrapOptions = {},
): { mean: Interval; median: Interval } | null {
  assertFiniteSamples(samples);
  return bootstrapMeanAndMedianCIOfSorted(sortedAscending(samples), opts);
}

/** bootstrapMeanAndMedianCI of finite samples already sorted ascending (a summary sorts them once for all its statistics). */
export function bootstrapMeanAndMedianCIOfSorted(
  sorted: Float64Array,
  opts: BootstrapOptions = {},
): { mean: Interval; median: Interval } | null {
  if (sorted.length < 2) return null;
  const { seed, resamples, level, exactMaxN } = resolveOptions(opts);
  const stats = meansAndMedians(sorted, resamples, createRng(seed), exactMaxN);
  return { mean: percentileInterval(stats.mean, level), median: percentileInterval(stats.median, level) };
}

/**
 * Interval of stat(candidate) / stat(baseline), each resampled independently.
 * Null when either has fewer than 2 samples, or when the baseline statistic
 * of any resample is 0 and the ratio is undefined.
 */
export function bootstrapRatioCI(
  baseline: readonly number[],
  candidate: readonly number[],
  statistic: BootstrapStatistic,
  opts: BootstrapOptions = {},
): Interval | null {
  assertFiniteSamples(baseline, 'baseline');
  assertFiniteSamples(candidate, 'candidate');
  return bootstrapRatioCIOfSorted(sortedAscending(baseline), sortedAscending(candidate), statistic, opts);
}

/** bootstrapRatioCI of finite samples already sorted ascending (a comparison sorts each side once for its statistic, its test and this). */
export function bootstrapRatioCIOfSorted(
  baseline: Float64Array,
  candidate: Float64Array,
  statistic: BootstrapStatistic,
  opts: BootstrapOptions = {},
): Interval | null {
  if (baseline.length < 2 || candidate.length < 2) return null;
  const { seed, resamples, level, exactMaxN } = resolveOptions(opts);
  const rng = createRng(seed);
  const base = meansAndMedians(baseline, resamples, rng, exactMaxN)[statistic];
  const ratios = meansAndMedians(candidate, resamples, rng, exactMaxN)[statistic];
  for (let r = 0; r < resamples; r++) {
    const denominator = base[r] as number;
    if (denominator === 0) return null;
    ratios[r] = (ratios[r] as number) / denominator;
  }
  return percentileInterval(ratios, level);
}

export function resolveOptions(opts: BootstrapOptions): Required<BootstrapOptions> {
  const seed = opts.seed ?? BOOTSTRAP_SEED;
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? BOOTSTRAP_LEVEL;
  const exactMaxN = opts.exactMaxN ?? BOOTSTRAP_EXACT_MAX_N;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`bootstrap: expected resamples to be an integer >= 1, found ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: expected level in (0, 1), found ${level}`);
  if (!(exactMaxN >= 0)) throw new RangeError(`bootstrap: expected exactMaxN >= 0, found ${exactMaxN}`);
  return { seed, resamples, level, exactMaxN };
}

/** Two-sided percentile interval: the (1-level)/2 and (1+level)/2 type-7 quantiles of the bootstrap distribution. */
export function percentileInterval(stats: Float64Array, level: number): Interval {
  stats.sort();
  return { low: quantileSorted(stats, (1 - level) / 2), high: quantileSorted(stats, (1 + level) / 2) };
}

/** Mean and median of each resample: n draws each up to exactMaxN samples, the large-sample approximation above. */
function meansAndMedians(
  sorted: Float64Array,
  resamples: number,
  rng: () => number,
  exactMaxN: number,
): { mean: Float64Array; median: Float64Array } {
  return sorted.length > exactMaxN ? approximateMeansAndMedians(sorted, resamples, rng) : resampledStatistics(sorted, resamples, rng);
}

/**
 * Mean and median of each of `resamples` resamples (n draws with replacement)
 * of `sorted`. Draws are indices into the sorted samples, tallied in `counts`,
 * so a resample's median is read off the running count with no sort or
 * selection, and the result depends on the multiset of samples, not their order.
 */
function resampledStatistics(
  sorted: Float64Array,
  resamples: number,
  rng: () => number,
): { mean: Float64Array; median: Float64Array } {
  const n = sorted.length;
  const means = new Float64Array(resamples);
  const medians = new Float64Array(resamples);
  const counts = new Int32Array(n);
  // Type-7 median: the order statistics at ranks ⌊(n-1)/2⌋ and ⌈(n-1)/2⌉ (0-based), interpolated halfway.
  const lowRank = Math.floor((n - 1) / 2);
  const highRank = Math.ceil((n - 1) / 2);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const index = Math.floor(rng() * n);
      counts[index]! += 1;
      sum += sorted[index] as number;
    }
    means[r] = sum / n;
    let seen = 0;
    let j = 0;
    while ((seen += counts[j] as number) <= lowRank) j++;
    const low = sorted[j] as number;
    while (seen <= highRank) seen += counts[++j] as number;
    medians[r] = low + 0.5 * ((sorted[j] as number) - low);
  }
  return { mean: means, median: medians };
}
