import { median } from './percentile.ts';

/** Median absolute deviation, unscaled: median(|x_i − median(x)|) (Hampel 1974). */
export function medianAbsoluteDeviation(samples: readonly number[], center: number = median(samples)): number {
  return median(samples.map((x) => Math.abs(x - center)));
}
