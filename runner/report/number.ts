/**
 * Numbers for people: three significant digits, never fewer integer digits
 * than the value has, so 0.912 ms, 12.3 ms and 12345 ms all read naturally.
 */

const DASH = '—';

/** A plain number with three significant digits; an integer is shown as one (a bound of 250 stays "250"). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  // Below 1e-4 a fixed-point string is mostly zeros; exponent form is easier to read.
  if (magnitude < -4) return value.toExponential(2);
  const decimals = Math.max(0, 2 - magnitude);
  return value.toFixed(decimals);
}

/** "12.3 ms"; a dash when there is no value. */
export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined) return DASH;
  const number = formatNumber(value);
  return unit === '' ? number : `${number} ${unit}`;
}

/** "1.22×"; two decimals below 10 so small changes stay visible. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return DASH;
  if (!Number.isFinite(ratio)) return String(ratio);
  return `${Math.abs(ratio) < 10 ? ratio.toFixed(2) : formatNumber(ratio)}×`;
}

/**
 * A ratio beside the bounds it is judged against, with enough decimals that it
 * never reads as equal to one it is not equal to: 1.2004 against 1.2 is
 * "1.2004×", not "1.20×". Two decimals at least, six at most.
 */
export function formatRatioAgainst(ratio: number, bounds: readonly number[]): string {
  if (!Number.isFinite(ratio) || Math.abs(ratio) >= 10) return formatRatio(ratio);
  let decimals = 2;
  // Rounding is monotonic, so once the two strings differ their order is the true order.
  while (decimals < 6 && bounds.some((bound) => bound !== ratio && ratio.toFixed(decimals) === bound.toFixed(decimals))) decimals += 1;
  return `${ratio.toFixed(decimals)}×`;
}

/** A bound as the rig file wrote it: "1.2×", not "1.20×". */
export function formatBound(bound: number): string {
  return `${bound}×`;
}

/** A fraction as a percentage for a threshold: 0.02 is "2%", 0.015 "1.5%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

/** "1.18–1.26" (a confidence interval of a ratio). */
export function formatInterval(interval: { low: number; high: number } | null | undefined): string {
  if (!interval) return DASH;
  const end = (x: number) => (Math.abs(x) < 10 ? x.toFixed(2) : formatNumber(x));
  return `${end(interval.low)}–${end(interval.high)}`;
}

/** Two significant digits; anything below 0.0001 is shown as "<0.0001". */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined) return DASH;
  if (p < 0.0001) return '<0.0001';
  return p >= 0.001 ? p.toPrecision(2) : p.toFixed(4);
}

/** "p = 0.0003" or "p < 0.0001", for sentences. */
export function pClause(p: number): string {
  const text = formatP(p);
  return text.startsWith('<') ? `p < ${text.slice(1)}` : `p = ${text}`;
}
