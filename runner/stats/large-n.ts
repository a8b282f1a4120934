/**
 * The bootstrap's resample statistics for large n, each drawn in O(1) from its
 * known large-sample distribution instead of from n draws with replacement
 * (bootstrap.ts and slope.ts use these above BOOTSTRAP_EXACT_MAX_N). Every
 * normal deviate comes from the same seeded generator, so the same samples
 * give the same interval, as the exact bootstrap does.
 *
 * - Median (a quantile q): of n draws from the sorted sample x₍₁₎ ≤ … ≤ x₍ₙ₎,
 *   the count at or below x₍ⱼ₎ is Binomial(n, j/n), so the resample's q-quantile
 *   is the order statistic at a Binomial-distributed rank; with the normal
 *   approximation of the binomial (the large-sample distribution of sample
 *   quantiles: Serfling 1980, §2.3.3) that rank is n·q + z·√(n·q·(1−q)), z ~ N(0, 1),
 *   read off the sorted sample at the nearest rank.
 * - Mean: x̄ + z·σ̂/√n, σ̂² = Σ(xᵢ − x̄)²/n, the central limit theorem applied to
 *   the resampling distribution (its variance is exactly σ̂²/n).
 * - Slope through the origin (pairs bootstrap): β̂ + z·se, se² = Σ xᵢ²eᵢ² / (Σ xᵢ²)²
 *   with eᵢ = yᵢ − β̂xᵢ, the sandwich variance the pairs bootstrap of least
 *   squares converges to (Freedman 1981).
 */

/** One standard normal deviate from two uniform draws (Box & Muller 1958, the cosine branch). */
export function standardNormal(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Sorted-sample value at the resample's q-quantile rank h + z·√(n·q·(1−q)), h = (n − 1)q the type-7 rank (0-based), rounded and kept in range. */
function resampledQuantile(sorted: Float64Array, q: number, z: number): number {
  const n = sorted.length;
  const rank = Math.round((n - 1) * q + z * Math.sqrt(n * q * (1 - q)));
  return sorted[Math.min(n - 1, Math.max(0, rank))] as number;
}

/**
 * Mean and median of each of `resamples` resamples of `sorted`, as
 * bootstrap.ts's exact resampling gives them for large n: per resample a
 * deviate for the mean, then one for the median.
 */
export function approximateMeansAndMedians(
  sorted: Float64Array,
  resamples: number,
  rng: () => number,
): { mean: Float64Array; median: Float64Array } {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const average = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((sorted[i] as number) - average) ** 2;
  const standardError = Math.sqrt(squares / n / n);
  const means = new Float64Array(resamples);
  const medians = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    means[r] = average + standardNormal(rng) * standardError;
    medians[r] = resampledQuantile(sorted, 0.5, standardNormal(rng));
  }
  return { mean: means, median: medians };
}

/** β of each of `resamples` pairs-bootstrap resamples of the batches (x calls, y total time), as slope.ts's exact resampling gives them for large n. */
export function approximateSlopes(x: readonly number[], y: readonly number[], resamples: number, rng: () => number): Float64Array {
  const n = x.length;
  let xy = 0;
  let xx = 0;
  for (let i = 0; i < n; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
  }
  const slope = xy / xx;
  let sandwich = 0;
  for (let i = 0; i < n; i++) sandwich += (x[i]! * (y[i]! - slope * x[i]!)) ** 2;
  const standardError = Math.sqrt(sandwich) / xx;
  const slopes = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) slopes[r] = slope + standardNormal(rng) * standardError;
  return slopes;
}
