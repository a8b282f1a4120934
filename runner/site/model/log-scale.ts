/** When a chart's value axis is logarithmic. */

/** Values spanning more than this factor squash the small ones flat on a linear axis. */
const LOG_SCALE_SPAN = 100;

/** Log scale when every value is positive and the largest exceeds the smallest by more than two orders of magnitude. */
export function useLogScale(values: readonly number[]): boolean {
  if (values.length === 0) return false;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!(value > 0)) return false;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return max / min > LOG_SCALE_SPAN;
}
