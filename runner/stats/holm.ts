/**
 * Holm's step-down correction (Holm 1979): control of the family-wise error
 * rate when one gate run judges many cells and metrics at once, so that the
 * chance of any false failure stays at alpha, not alpha times their number.
 */

/**
 * Adjusted p-values, in the order given: with p sorted ascending as p(1) ≤ … ≤ p(m),
 * p̃(i) = max over j ≤ i of min(1, (m − j + 1)·p(j)). Reject H(i) when p̃(i) < alpha.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  for (const [i, p] of pValues.entries()) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`holmAdjust: expected p-values in [0, 1], found ${p} at index ${i}`);
  }
  const order = pValues.map((p, index) => ({ p, index })).sort((a, b) => a.p - b.p || a.index - b.index);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}
