/**
 * Building the native spawner on first use: `cc -O2` into a cache directory
 * keyed by the sha256 of the source, so a changed source rebuilds and an
 * unchanged one is reused. The binary appears atomically (temp file + rename).
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { lastLines } from './tail.ts';

export const NATIVE_SOURCE = fileURLToPath(new URL('../../native/spawner.c', import.meta.url));

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

export function defaultCacheRoot(): string {
  return process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
}

/** Path of the helper built from `source` under `cacheRoot`. */
export function helperPath(source: string, cacheRoot: string): string {
  const digest = createHash('sha256').update(source).digest('hex');
  return join(cacheRoot, 'rigor', 'native', digest, 'spawner');
}

/** The helper binary for the current source, built if it is not cached. Throws with the compiler's complaint. */
export async function ensureNativeSpawner(options: BuildOptions = {}): Promise<NativeHelper> {
  const compiler = options.compiler ?? 'cc';
  const target = helperPath(await readFile(NATIVE_SOURCE, 'utf8'), options.cacheDir ?? defaultCacheRoot());
  try {
    await access(target, constants.X_OK);
    return { path: target, built: false, compiler };
  } catch {
    // not cached yet: build it below
  }
  await mkdir(join(target, '..'), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const result = await execa(compiler, ['-O2', '-std=c99', '-Wall', '-o', temp, NATIVE_SOURCE], { reject: false, stdin: 'ignore' });
  if (result.failed) {
    await rm(temp, { force: true });
    const why = result.exitCode === undefined ? result.shortMessage : lastLines(String(result.stderr), 5);
    throw new Error(`${compiler} failed: ${why}`);
  }
  await rename(temp, target);
  return { path: target, built: true, compiler };
}
