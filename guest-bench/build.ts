/**
 * guest-bench, the benchmark copied into sandboxes, built on first use as a
 * static binary (it runs in a busybox rootfs or an initramfs with no libc)
 * into the cache, keyed by the sha256 of its source and flags, and reused after.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheEntryPath, defaultCacheRoot, ensureCached } from '../base/cache.ts';
import { compileC } from '../base/compile-c.ts';

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
  const source = await readFile(SOURCE, 'utf8');
  const target = cacheEntryPath(opts.cacheDir ?? defaultCacheRoot(), 'guest-bench', [source, FLAGS.join(' ')], 'guest-bench');
  // --version and every report name the build: the same hash as the cache directory.
  const build = basename(dirname(target)).slice(0, 12);
  const flags = [...FLAGS, `-DGUEST_BENCH_BUILD="${build}"`];
  await ensureCached(target, (temp) => compileC([SOURCE], temp, { compiler: opts.compiler, flags }));
  return target;
}
