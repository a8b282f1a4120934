/**
 * A seeded uniform generator, so every bootstrap resample (and so every summary
 * recomputed from the same samples) is reproducible bit for bit.
 */

/** Mulberry32 (Tommy Ettinger, 2017): 32-bit state, period 2^32, far more draws than one bootstrap takes. */
export function createRng(seed: number): () => number {
  if (!Number.isInteger(seed)) {
    throw new RangeError(`createRng: expected an integer seed, found ${seed}`);
  }
  // State in an Int32Array, not a closure variable: V8 would box an int32 outside the small-integer range on every call (2x slower).
  const state = new Int32Array([seed | 0]);
  return () => {
    const s = (state[0] = ((state[0] as number) + 0x6d2b79f5) | 0);
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
