/**
 * Copies for fork images (and snapshots), and what they take on disk. A copy is a reflink (the filesystem
 * clones the extents: copy-on-write) only where the filesystem proved it can (FICLONE on a probe file, once
 * per filesystem); everywhere else its blocks are copied, sparse (holes stay holes), and it says so: a copy
 * is never called copy-on-write unless the kernel cloned it. Sizes count allocated blocks (st_blocks × 512),
 * not logical sizes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

export type CopyKind = 'reflink' | 'copy';

/** Per filesystem (st_dev): whether FICLONE worked there. */
const clones = new Map<number, Promise<boolean>>();

/** Whether a file on the filesystem holding `dir` can be cloned within it (FICLONE through copyFile's COPYFILE_FICLONE_FORCE); probed once per filesystem. */
export async function reflinkWorksIn(dir: string): Promise<boolean> {
  const { dev } = await stat(dir);
  let known = clones.get(dev);
  if (!known) {
    known = probe(dir);
    clones.set(dev, known);
  }
  return known;
}

async function probe(dir: string): Promise<boolean> {
  const name = join(dir, `.rigor-reflink-probe-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(name, 'probe', { flag: 'wx', mode: 0o600 });
    await copyFile(name, `${name}.clone`, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await rm(name, { force: true });
    await rm(`${name}.clone`, { force: true });
  }
}

/** How `from` (a file or a directory tree) can be copied to `to`: a reflink only when both lie on one filesystem that clones. */
export async function copyKindFor(from: string, to: string): Promise<CopyKind> {
  const [source, target] = await Promise.all([stat(from), stat(dirname(to))]);
  if (source.dev !== target.dev) return 'copy';
  return (await reflinkWorksIn(dirname(to))) ? 'reflink' : 'copy';
}

/**
 * Copies `from` (a file, or with `tree` a directory, ownership, modes and times kept: cp -a) to `to`, which
 * must not exist: GNU cp with --reflink=always where copyKindFor says the filesystem clones, else
 * --reflink=never --sparse=always. Says which it was.
 */
export async function copyForImage(from: string, to: string, options: { tree?: boolean } = {}): Promise<CopyKind> {
  const kind = await copyKindFor(from, to).catch((error: Error) => {
    throw new Error(`copying ${from} to ${to}: ${error.message}`);
  });
  // cp refuses --reflink=always with any --sparse but auto; a clone keeps the holes anyway.
  const how = kind === 'reflink' ? ['--reflink=always'] : ['--reflink=never', '--sparse=always'];
  const args = [...(options.tree ? ['-a', '-T'] : []), ...how, '--', from, to];
  try {
    await promisify(execFile)('cp', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`copying ${from} to ${to}: ${stderr || (error as Error).message}`);
  }
  return kind;
}

/** Sizes of everything under `path` (itself included): logical bytes of its files and blocks allocated (st_blocks × 512, a hard-linked inode once). */
export async function diskUsage(path: string): Promise<{ bytes: number; allocatedBytes: number }> {
  const seen = new Set<string>();
  let bytes = 0;
  let allocatedBytes = 0;
  const visit = async (at: string): Promise<void> => {
    const entry = await lstat(at);
    const inode = `${entry.dev}:${entry.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    allocatedBytes += entry.blocks * 512;
    if (entry.isFile()) bytes += entry.size;
    if (entry.isDirectory()) for (const name of await readdir(at)) await visit(join(at, name));
  };
  await visit(path);
  return { bytes, allocatedBytes };
}

/**
 * A new temp dir (0700) beside `dir` for a `what` ("snapshot", "fork") to be written into and renamed to
 * `dir` when whole; refuses a `dir` that already exists (a save never writes over another).
 */
export async function partialDirFor(dir: string, what: string): Promise<string> {
  if (existsSync(dir)) throw new Error(`${what} ${dir}: already exists; a ${what} is written only to a new directory`);
  const partial = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  await mkdir(partial, { mode: 0o700 }).catch((error: Error) => {
    throw new Error(`${what} ${dir}: cannot make ${partial}: ${error.message}`);
  });
  return partial;
}
