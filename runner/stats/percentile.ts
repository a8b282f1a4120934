/**
 * The one percentile definition rigor uses everywhere (summaries, gates, site):
 * Hyndman & Fan (1996) type 7, linear interpolation between the closest ranks,
 * the default of numpy.quantile and R's quantile().
 */
import { quickselect } from 'simple-statistics';
import { assertFiniteSamples } from './finite.ts';

/** Hyndman & Fan type 7: h = (n-1)p, Q(p) = x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋]). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantileSorted: expected at least one sample, found none');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantileSorted: expected p in [0, 1], found ${p}`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const xLo = sorted[lo] as number;
  if (lo + 1 >= n) return xLo;
  return xLo + (h - lo) * ((sorted[lo + 1] as number) - xLo);
}

/** Arrays this long or longer keep their sorted copy (sortedAscending): sorting 10^6 samples takes 0.1-0.2 s, comparing them a few ms. */
const REMEMBERED_FROM = 10_000;
/** The sorted copy of a large array, and a copy of the array it was sorted from, to tell a later edit. */
const remembered = new WeakMap<ArrayLike<number>, { from: Float64Array; sorted: Float64Array }>();

/**
 * A sorted copy of the samples, ascending: one sort a caller can hand to
 * every statistic that needs the order. A large array's copy is remembered
 * while the array lives and handed out again while its values are unchanged
 * (a gate sorts each side to check its summary when reading it, then to judge
 * it): callers read it and never write to it.
 */
export function sortedAscending(samples: ArrayLike<number>): Float64Array {
  if (samples.length < REMEMBERED_FROM) return Float64Array.from(samples).sort();
  const known = remembered.get(samples);
  if (known && sameValues(known.from, samples)) return known.sorted;
  const from = Float64Array.from(samples);
  const sorted = from.slice().sort();
  remembered.set(samples, { from, sorted });
  return sorted;
}

function sameValues(a: Float64Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Type-7 median (the middle value, or the mean of the two middle ones), by selection instead of a full sort. */
export function median(samples: readonly number[]): number {
  const n = samples.length;
  if (n === 0) throw new RangeError('median: expected at least one sample, found none');
  assertFiniteSamples(samples);
  const copy = samples.slice();
  const upper = Math.floor(n / 2);
  quickselect(copy, upper);
  const high = copy[upper] as number;
  if (n % 2 === 1) return high;
  // After selection everything left of `upper` is <= copy[upper]; the lower middle is their maximum.
  let low = -Infinity;
  for (let i = 0; i < upper; i++) low = Math.max(low, copy[i] as number);
  // Written as quantileSorted's interpolation so both give the identical double.
  return low + 0.5 * (high - low);
}
