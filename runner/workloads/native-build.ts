/**
 * Building the native spawner on first use: `cc -O2` into a cache directory
 * keyed by the sha256 of the source, so a changed source rebuilds and an
 * unchanged one is reused. The binary appears atomically (temp file + rename).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cacheEntryPath, defaultCacheRoot, ensureCached } from '../../base/cache.ts';
import { compileC } from '../../base/compile-c.ts';

export { defaultCacheRoot };

const NATIVE_SOURCE = fileURLToPath(new URL('../../native/spawner.c', import.meta.url));

export interface BuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. The helper lands in <root>/rigor/native/<sha256>/spawner. */
  cacheDir?: string;
  /** C compiler to run; default `cc` from PATH. */
  compiler?: string;
}

export interface NativeHelper {
  path: string;
  /** False when an earlier build of the same source was reused. */
  built: boolean;
  compiler: string;
}

/** Path of the helper built from `source` under `cacheRoot`. */
export function helperPath(source: string, cacheRoot: string): string {
  return cacheEntryPath(cacheRoot, 'native', [source], 'spawner');
}

/** The helper binary for the current source, built if it is not cached. Throws with the compiler's complaint. */
export async function ensureNativeSpawner(options: BuildOptions = {}): Promise<NativeHelper> {
  const compiler = options.compiler ?? 'cc';
  const target = helperPath(await readFile(NATIVE_SOURCE, 'utf8'), options.cacheDir ?? defaultCacheRoot());
  const built = await ensureCached(target, (temp) => compileC([NATIVE_SOURCE], temp, { compiler, flags: ['-O2', '-std=c99', '-Wall'] }));
  return { path: target, built, compiler };
}
