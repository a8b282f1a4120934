/**
 * guest-bench, the benchmark copied into sandboxes, built on first use as a
 * static binary (it runs in a busybox rootfs or an initramfs with no libc)
 * into the cache, keyed by every input of the build, and reused after.
 */
import { fileURLToPath } from 'node:url';
import { cachedCBuild } from '../base/build-cache.ts';

const SOURCE = fileURLToPath(new URL('guest-bench.c', import.meta.url));
const FLAGS = ['-static', '-O2', '-std=gnu11', '-Wall', '-Wextra', '-pthread'];

export interface GuestBenchBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. The binary lands in <root>/rigor/guest-bench/<sha256>/guest-bench. */
  cacheDir?: string;
  /** C compiler; default `cc` from PATH. */
  compiler?: string;
}

/** The static guest-bench binary; throws naming what to install when cc or libc.a is missing. */
export async function guestBenchPath(opts: GuestBenchBuildOptions = {}): Promise<string> {
  // --version and every report name the build: the cache key's prefix.
  const { path } = await cachedCBuild({
    kind: 'guest-bench',
    sources: [SOURCE],
    flags: FLAGS,
    buildIdMacro: 'GUEST_BENCH_BUILD',
    compiler: opts.compiler,
    cacheDir: opts.cacheDir,
    fileName: 'guest-bench',
  });
  return path;
}
