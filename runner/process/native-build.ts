/**
 * Building the native spawner on first use: `cc -O2` into a cache directory
 * keyed by every input of the build, so a changed input rebuilds and an
 * unchanged one is reused. The binary appears atomically (temp file + rename).
 */
import { fileURLToPath } from 'node:url';
import { cBuildEntry, cachedCBuild, type CBuild } from '../../base/build-cache.ts';
import { defaultCacheRoot } from '../../base/cache.ts';

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
  /** False when an earlier build of the same inputs was reused. */
  built: boolean;
  compiler: string;
}

function spawnerBuild(options: BuildOptions, source = NATIVE_SOURCE): CBuild {
  return { kind: 'native', sources: [source], flags: ['-O2', '-std=c99', '-Wall'], compiler: options.compiler, cacheDir: options.cacheDir, fileName: 'spawner' };
}

/** Path of the helper built from the C file `source` (default native/spawner.c), without building it. */
export async function helperPath(options: BuildOptions = {}, source = NATIVE_SOURCE): Promise<string> {
  return (await cBuildEntry(spawnerBuild(options, source))).path;
}

/** The helper binary for the current source, built if it is not cached. Throws with the compiler's complaint. */
export async function ensureNativeSpawner(options: BuildOptions = {}): Promise<NativeHelper> {
  const { path, built } = await cachedCBuild(spawnerBuild(options));
  return { path, built, compiler: options.compiler ?? 'cc' };
}
