/**
 * Per-sandbox cgroups (v1 pids and memory hierarchies, or v2) for a backend
 * that has no runtime to make them (bwrap): made under this process's own
 * cgroup as `rigor/<sandbox id>`, limited, joined by the sandbox's launcher
 * itself before it starts anything (cgroup-exec.ts), removed once they are gone.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupDirsFor, cgroupProcs, dirOf, removeCgroupDirs, type CgroupDir } from '../../base/cgroups.ts';
import { sleepSync } from '../../base/sleep-sync.ts';
import { processExists, signalQuietly } from '../../base/signal.ts';
import type { Limits } from './limits.ts';

const PARENT = 'rigor-sandboxes';
/** How long the sweep waits for the killed members of a dead owner's cgroup to exit before removing it. */
const SWEEP_WAIT_MS = 2000;
let parents: CgroupDir[] | undefined;
/** Where the sandboxes' cgroups go in each hierarchy: this process's cgroup, read once (it does not move). */
const parentDirs = (): CgroupDir[] => (parents ??= cgroupDirsFor(PARENT));
/** How long killMembers() waits for killed processes to leave the cgroups. */
const MEMBERS_GONE_MS = 2000;

export interface LimitCgroups {
  dirs: CgroupDir[];
  /**
   * What a process writes "0" to, to join every directory itself: a v1
   * hierarchy's `tasks` (which moves the writing thread: for a one-threaded
   * launcher, the process), v2's cgroup.procs.
   */
  joinFiles: string[];
  /** SIGKILL every process still in the cgroups; resolves once they have left (at most MEMBERS_GONE_MS). */
  killMembers(): Promise<void>;
  /** rmdir every directory (its processes must be gone); returns the ones left. */
  remove(): string[];
}

/** Make and limit the cgroups of sandbox `id` (whose name starts `<backend>-<owner pid>-`); throws naming the file it could not write. */
export function makeLimitCgroups(id: string, limits: Pick<Limits, 'pids' | 'memoryMiB'>): LimitCgroups {
  const all = parentDirs().map((entry) => ({ ...entry, dir: join(entry.dir, id) }));
  const pids = dirOf(all, 'pids') ?? dirOf(all, '');
  const memory = dirOf(all, 'memory') ?? dirOf(all, '');
  if (!pids || !memory) throw new Error('no pids or memory cgroup controller is mounted on this host: sandbox limits cannot be enforced');
  const dirs = all.filter((entry) => entry.dir === pids || entry.dir === memory);
  const write = (file: string, value: string) => {
    try {
      writeFileSync(file, value);
    } catch (error) {
      throw new Error(`cannot set the sandbox limit ${file} = ${value}: ${(error as Error).message}`, { cause: error });
    }
  };
  for (const { dir } of dirs) mkdirSync(dir, { recursive: true });
  const bytes = String(limits.memoryMiB * 1024 * 1024);
  write(join(pids, 'pids.max'), String(limits.pids));
  if (existsSync(join(memory, 'memory.limit_in_bytes'))) {
    write(join(memory, 'memory.limit_in_bytes'), bytes);
    // with swap accounting, memory+swap gets the same cap: the limit cannot be dodged by swapping
    if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) write(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
  } else {
    write(join(memory, 'memory.max'), bytes);
    if (existsSync(join(memory, 'memory.swap.max'))) write(join(memory, 'memory.swap.max'), '0');
  }
  return {
    dirs,
    joinFiles: dirs.map(({ controllers, dir }) => join(dir, controllers.length > 0 ? 'tasks' : 'cgroup.procs')),
    async killMembers() {
      const members = () => dirs.flatMap(({ dir }) => cgroupProcs(dir));
      const deadline = performance.now() + MEMBERS_GONE_MS;
      // a killed process leaves its cgroup once it has exited: only then can the directory go
      for (let left = members(); left.length > 0 && performance.now() < deadline; left = members()) {
        for (const pid of left) signalQuietly(pid, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    remove: () => removeCgroupDirs(dirs),
  };
}

/** Counters of limits the sandbox ran into: OOM kills and refused forks. */
export function limitEvents(dirs: CgroupDir[]): { oomKills: number; forksRefused: number } {
  const read = (file: string, key: string): number => {
    try {
      const line = readFileSync(file, 'utf8').split('\n').find((entry: string) => entry.startsWith(`${key} `));
      return line ? Number(line.split(' ')[1]) : 0;
    } catch {
      return 0;
    }
  };
  const memory = dirOf(dirs, 'memory') ?? dirOf(dirs, '');
  const pids = dirOf(dirs, 'pids') ?? dirOf(dirs, '');
  return {
    oomKills: memory ? read(join(memory, existsSync(join(memory, 'memory.oom_control')) ? 'memory.oom_control' : 'memory.events'), 'oom_kill') : 0,
    forksRefused: pids ? read(join(pids, 'pids.events'), 'max') : 0,
  };
}

/**
 * Reclaim the cgroups of sandboxes whose owner process died (a SIGKILLed
 * rigor): what still runs in one outlived its parent-death signals (a bwrap
 * killed before it armed them) and is killed; an empty one is removed.
 * Returns how many were removed (one whose processes are still exiting goes next time).
 */
export function sweepStaleLimitCgroups(): number {
  let removed = 0;
  for (const { dir } of parentDirs()) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of entries) {
      const owner = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1]);
      if (!Number.isInteger(owner) || processExists(owner)) continue;
      for (const pid of cgroupProcs(join(dir, name))) signalQuietly(pid, 'SIGKILL');
      // A killed process leaves its cgroup only once it has exited, and rmdir refuses a cgroup with members
      // (EBUSY): wait for them, bounded, or the next run's sweep leaves the cgroup behind.
      const deadline = Date.now() + SWEEP_WAIT_MS;
      while (cgroupProcs(join(dir, name)).length > 0 && Date.now() < deadline) sleepSync(10);
      if (removeCgroupDirs([{ controllers: [], dir: join(dir, name) }]).length === 0) removed += 1;
    }
  }
  return removed;
}
