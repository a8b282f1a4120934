/** The two-sided p-value of a statistic from its exact null distribution, given as counts per value. */

/** p = 2·min(P(S ≤ s), P(S ≥ s)), capped at 1; counts[k] is how many arrangements give S = k. */
export function twoSidedFromCounts(counts: ArrayLike<number>, observed: number): number {
  let total = 0;
  let atMost = 0;
  let atLeast = 0;
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k] as number;
    total += c;
    if (k <= observed) atMost += c;
    if (k >= observed) atLeast += c;
  }
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / total);
}
