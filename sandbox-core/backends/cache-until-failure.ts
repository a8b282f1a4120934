/**
 * A promise made on first use and shared by every later call, for work done
 * once per process (an image build, a rootfs, the agent's build): a rejected
 * one is forgotten so that the next call tries again instead of failing forever.
 */
export function cacheUntilFailure<T>(make: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (!cached) {
      const made = make();
      cached = made;
      made.catch(() => {
        if (cached === made) cached = undefined;
      });
    }
    return cached;
  };
}
