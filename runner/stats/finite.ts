/** Every statistic here is meaningless with NaN or Infinity in it, so they are refused up front. */
export function assertFiniteSamples(samples: ArrayLike<number>, what = 'samples'): void {
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RangeError(`${what}[${i}]: expected a finite number, found ${String(x)}`);
    }
  }
}
