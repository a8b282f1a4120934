/**
 * Files a sandbox launcher running as an unprivileged host uid must read
 * (the agent built into root's cache, behind a 0700 home directory), copied
 * once per content into a root-owned, world-readable directory. Nothing there
 * is writable by any sandbox uid.
 */
import { copyFile, chmod, mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { checkReachable } from './reachable.ts';

const STAGE_DIR = '/run/rigor/stage/files';
const staged = new Map<string, Promise<string>>();

/**
 * The staged copy of `hostPath`, made on first use. `hostPath` must be a
 * content-addressed cache entry (its directory is named by the hash of what
 * it holds), so one staged name never stands for two contents.
 */
export function stageForSandboxes(hostPath: string, stageDir = STAGE_DIR): Promise<string> {
  let copy = staged.get(hostPath);
  if (!copy) {
    copy = stage(hostPath, stageDir);
    copy.catch(() => staged.delete(hostPath)); // a failed copy is tried again next time
    staged.set(hostPath, copy);
  }
  return copy;
}

async function stage(hostPath: string, stageDir: string): Promise<string> {
  const dir = join(stageDir, basename(dirname(hostPath)));
  const target = join(dir, basename(hostPath));
  try {
    await stat(target);
    return target;
  } catch {
    // not staged yet
  }
  for (const level of [dirname(dirname(stageDir)), dirname(stageDir), stageDir, dir]) {
    await mkdir(level, { recursive: true });
    await chmod(level, 0o755);
  }
  const temp = `${target}.${process.pid}.tmp`;
  await copyFile(hostPath, temp);
  await chmod(temp, 0o755);
  await rename(temp, target);
  return target;
}

const readable = new Map<string, Promise<string>>();

/** `hostPath` itself when every uid can reach and read it, else its staged copy (which must then be content-addressed, as above); decided once per path. */
export function readableBySandboxes(hostPath: string): Promise<string> {
  let found = readable.get(hostPath);
  if (!found) {
    found = decideReadable(hostPath);
    found.catch(() => readable.delete(hostPath));
    readable.set(hostPath, found);
  }
  return found;
}

async function decideReadable(hostPath: string): Promise<string> {
  try {
    await checkReachable(hostPath, hostPath);
    if (((await stat(hostPath)).mode & 0o004) !== 0) return hostPath;
  } catch {
    // hidden behind a directory others cannot search: stage it
  }
  return stageForSandboxes(hostPath);
}
