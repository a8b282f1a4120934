/**
 * A promise made on first use and shared by every later call, for work done
 * once per process (an image build, a rootfs, the agent's build): a rejected
 * one is forgotten so that the next call tries again instead of failing forever.
 */
export function cacheUntilFailure<T, A extends unknown[] = []>(make: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let cached: Promise<T> | undefined;
  // The arguments of the call that starts the work (an abort signal, say) are the ones it runs with.
  return (...args: A) => {
    if (!cached) {
      const made = make(...args);
      cached = made;
      made.catch(() => {
        if (cached === made) cached = undefined;
      });
    }
    return cached;
  };
}
