/**
 * Build products kept in the user's cache, keyed by the sha256 of their
 * inputs: a changed input rebuilds, an unchanged one is reused. A product
 * appears atomically (temp file + rename), so a concurrent user never runs half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

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
