/**
 * Build products kept in the user's cache, keyed by the sha256 of their
 * inputs: a changed input rebuilds, an unchanged one is reused. A product
 * appears atomically (temp file + rename), so a concurrent user never runs half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { sweepStaleTempDirs } from './temp-dirs.ts';

/** $XDG_CACHE_HOME, else ~/.cache. */
export function defaultCacheRoot(): string {
  return process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
}

/** <cacheRoot>/rigor/<kind>/<sha256 of the inputs, in order>/<fileName>. */
export function cacheEntryPath(cacheRoot: string, kind: string, inputs: readonly string[], fileName: string): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(input);
  return join(cacheRoot, 'rigor', kind, hash.digest('hex'), fileName);
}

/** Makes `target` with `build(tempPath)` unless it exists; true when it was built now. */
export async function ensureCached(target: string, build: (tempPath: string) => Promise<void>): Promise<boolean> {
  try {
    await access(target, constants.F_OK);
    return false;
  } catch {
    // not cached yet: build it below
  }
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await build(temp);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return true;
}

/**
 * The cache directory <parent>/<key>, made by `fill(tempDir)` unless it is
 * already complete (it holds manifest.json, which `fill` must write last).
 * The temp dir is named rigor-build-<pid>-XXXXXX beside it: removed when
 * `fill` fails, swept by a later build when its builder was killed. A
 * concurrent identical build that renamed first wins; its result is the same.
 */
export async function ensureCachedDir(parent: string, key: string, fill: (temp: string) => Promise<void>): Promise<string> {
  const target = join(parent, key);
  if (await pathExists(join(target, 'manifest.json'))) return target;
  await mkdir(parent, { recursive: true });
  sweepStaleTempDirs(parent);
  const temp = await mkdtemp(join(parent, `rigor-build-${process.pid}-`));
  try {
    await fill(temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await pathExists(join(target, 'manifest.json')))) return target;
    throw error;
  }
  return target;
}

/** Whether anything is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** The sha256 of a file's bytes, hex. */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}
