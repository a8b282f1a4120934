import { median } from './percentile.ts';

/** Median absolute deviation, unscaled: median(|x_i − median(x)|) (Hampel 1974). */
export function medianAbsoluteDeviation(samples: readonly number[], center: number = median(samples)): number {
  return median(samples.map((x) => Math.abs(x - center)));
}

/**
 * medianAbsoluteDeviation of samples sorted ascending, the same double in
 * O(n) without a copy: the deviations from the center grow outward from it on
 * both sides, so merging the two runs outward reaches the middle ones in n/2 steps.
 */
export function medianAbsoluteDeviationSorted(sorted: Float64Array, center: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('median: expected at least one sample, found none');
  // Deviations below the split run leftward from `left`, the others rightward from `right`.
  let right = 0;
  for (let high = n; right < high; ) {
    const mid = (right + high) >>> 1;
    if ((sorted[mid] as number) < center) right = mid + 1;
    else high = mid;
  }
  let left = right - 1;
  const next = (): number => {
    const below = left >= 0 ? Math.abs((sorted[left] as number) - center) : Infinity;
    const above = right < n ? Math.abs((sorted[right] as number) - center) : Infinity;
    if (below <= above) {
      left--;
      return below;
    }
    right++;
    return above;
  };
  // Type-7 median of the n deviations: the one at rank ⌊(n−1)/2⌋, and the next when n is even (0-based).
  let low = 0;
  for (let rank = 0; rank <= (n - 1) >> 1; rank++) low = next();
  if (n % 2 === 1) return low;
  const high = next();
  // Written as quantileSorted's interpolation, as median() writes it, so both give the identical double.
  return low + 0.5 * (high - low);
}
