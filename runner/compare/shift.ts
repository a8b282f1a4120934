/** The direction of a change between two samples, as the rank test saw it. */

/**
 * Which way b lies from a, read off Mann-Whitney's U of a (pairs with a > b):
 * above n_a·n_b/2 means b tends lower. The direction the test itself saw.
 */
export function shiftOf(u: number, nA: number, nB: number): -1 | 0 | 1 {
  return Math.sign(nA * nB / 2 - u) as -1 | 0 | 1;
}
