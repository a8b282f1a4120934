/**
 * What a sandbox can leave behind on the host, counted from /proc: processes
 * carrying a marker in their environment or belonging to recorded process
 * groups, mounts mentioning a path, entries under a temp root.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { readProcTable } from '../../base/proc-table.ts';
import { cgroupDirsFor } from '../../base/cgroups.ts';

/** Pids (not our own) whose environment holds `marker` (e.g. "RIGOR_SANDBOX_ID=bwrap-"); zombies have none. */
export function processesWithEnv(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((entry) => entry.startsWith(marker))) found.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

/**
 * Live pids whose process group is one of `pgids`. Zombies are left out: they
 * are dead and hold nothing but their pid, and an orphan's is reaped by PID 1
 * (lazily on this box, within about 2 s).
 */
export function membersOfGroups(pgids: Iterable<number>): number[] {
  const wanted = new Set(pgids);
  return readProcTable()
    .filter((entry) => wanted.has(entry.pgid) && entry.state !== 'Z')
    .map((entry) => entry.pid);
}

/** Lines of /proc/mounts (this namespace) that mention `path`. */
export function mountsMentioning(path: string): string[] {
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((line) => line.includes(path));
}

/** Cgroup directories still there for sandbox `id` (bwrap's pids and memory limits). */
export function limitCgroupsOf(id: string): string[] {
  return cgroupDirsFor(join('rigor-sandboxes', id)).map((entry) => entry.dir).filter((dir) => existsSync(dir));
}

/** Sandbox uid locks (isolation/host-ids.ts) that name `pid` as their owner. */
export function hostIdLocksOf(pid: number, lockDir = '/run/rigor/host-ids'): string[] {
  if (!existsSync(lockDir)) return [];
  return readdirSync(lockDir).filter((name) => {
    try {
      return readFileSync(join(lockDir, name), 'utf8') === String(pid);
    } catch {
      return false;
    }
  });
}

export function entriesUnder(dir: string): string[] {
  return readdirSync(dir);
}

/** Poll until `predicate` holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Poll `count` until it returns 0 or `timeoutMs` passes; returns the last count. */
export async function settlesToZero(count: () => number, timeoutMs = 5000): Promise<number> {
  let last = count();
  await waitUntil(() => (last = count()) === 0, timeoutMs);
  return last;
}

/** Pids (not our own) whose command line or working directory mentions `path` (bwrap's argv names the workspace dir). */
export function processesMentioning(path: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd.startsWith(path) || readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(path)) found.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

/**
 * Points TMPDIR at a fresh directory for the file's tests (so every temp dir a
 * sandbox makes can be counted there) and restores it after; returns the directory.
 */
export function useOwnTmpdir(prefix: string): string {
  const original = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), prefix));
  beforeAll(() => {
    process.env.TMPDIR = root;
  });
  afterAll(() => {
    // Assigning undefined would set the string "undefined".
    if (original === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = original;
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}
