/**
 * Where runc puts a container's cgroups when its cgroupsPath is relative: in
 * every hierarchy, under the cgroup of the process that runs runc (runc's
 * fs driver joins the path to its own cgroup, not to the hierarchy root).
 * Knowing the directories lets the backend check that limits were applied,
 * list the container's processes, and remove what a killed runc left behind.
 */
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface CgroupMount {
  /** v1: the controllers (and name=...) of the hierarchy; v2: [] */
  controllers: string[];
  mountPoint: string;
  /** The cgroup this mount shows at its mount point (usually /). */
  root: string;
}

export interface CgroupDir {
  controllers: string[];
  dir: string;
}

/** Controller names the kernel has, from the first column of /proc/cgroups. */
export function parseSubsystems(procCgroups: string): Set<string> {
  return new Set(
    procCgroups
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split('\t')[0]!),
  );
}

/** cgroup and cgroup2 mounts from a /proc/<pid>/mountinfo text; `subsystems` tells controllers from mount options. */
export function parseCgroupMounts(mountinfo: string, subsystems: Set<string>): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (!root || !mountPoint) continue;
    if (fstype === 'cgroup2') mounts.push({ controllers: [], mountPoint, root });
    if (fstype === 'cgroup') {
      const options = (superOptions ?? '').split(',');
      const controllers = options.filter((option) => subsystems.has(option) || option.startsWith('name='));
      mounts.push({ controllers: controllers.sort(), mountPoint, root });
    }
  }
  return mounts;
}

/** Lines "id:controllers:path" of /proc/<pid>/cgroup; the v2 line has no controllers. */
function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers = '', ...rest] = line.split(':');
      return { controllers: controllers ? controllers.split(',').sort() : [], path: rest.join(':') };
    });
}

/** The directories runc creates for `relativePath`, one per mounted hierarchy this process belongs to. */
export function cgroupDirsFor(
  relativePath: string,
  mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'),
  procCgroup = readFileSync('/proc/self/cgroup', 'utf8'),
  procCgroups = readFileSync('/proc/cgroups', 'utf8'),
): CgroupDir[] {
  const mounts = parseCgroupMounts(mountinfo, parseSubsystems(procCgroups));
  const dirs: CgroupDir[] = [];
  for (const own of parseProcCgroup(procCgroup)) {
    const key = own.controllers.join(',');
    const mount = mounts.find((candidate) => candidate.controllers.join(',') === key);
    if (!mount) continue;
    const below = relative(mount.root, own.path);
    // this process sits outside what the mount shows: runc could not use it either
    if (below.startsWith('..')) continue;
    dirs.push({ controllers: own.controllers, dir: join(mount.mountPoint, below, relativePath) });
  }
  return dirs;
}

/** The directory of the hierarchy that carries `controller` (v1), or the v2 one for ''. */
export function dirOf(dirs: CgroupDir[], controller: string): string | undefined {
  return dirs.find((entry) => (controller ? entry.controllers.includes(controller) : entry.controllers.length === 0))?.dir;
}

/** Pids in a cgroup directory's cgroup.procs; [] when the directory is gone. */
export function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** rmdir every directory (cgroups are removed with rmdir, never rm -r); returns the ones that remain. */
export function removeCgroupDirs(dirs: CgroupDir[]): string[] {
  const left: string[] = [];
  for (const { dir } of dirs) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

/** Unfreeze a cgroup directory (v1 freezer.state or v2 cgroup.freeze) so signals pending in it are delivered. */
export function thawCgroup(dir: string): void {
  try {
    if (existsSync(join(dir, 'freezer.state'))) writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    if (existsSync(join(dir, 'cgroup.freeze'))) writeFileSync(join(dir, 'cgroup.freeze'), '0');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** How long freezeCgroup() waits for every task to reach the frozen state. */
const FREEZE_DEADLINE_MS = 2000;

/**
 * Freeze a cgroup directory as `runc pause` does, without a process: v1 writes
 * FROZEN to freezer.state and waits until it reads FROZEN (FREEZING while tasks
 * are still being stopped); v2 writes 1 to cgroup.freeze and waits for
 * "frozen 1" in cgroup.events. runc reads the same files for a container's
 * state, so `runc state` says paused and `runc delete --force` still works.
 * Thaws again and throws, naming the file, when the freeze does not complete.
 */
export async function freezeCgroup(dir: string, deadlineMs = FREEZE_DEADLINE_MS): Promise<void> {
  const v1 = existsSync(join(dir, 'freezer.state'));
  const control = join(dir, v1 ? 'freezer.state' : 'cgroup.freeze');
  const state = join(dir, v1 ? 'freezer.state' : 'cgroup.events');
  const frozen = v1 ? (text: string) => text.trim() === 'FROZEN' : (text: string) => /^frozen 1$/m.test(text);
  writeFileSync(control, v1 ? 'FROZEN' : '1');
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const text = readFileSync(state, 'utf8');
    if (frozen(text)) return;
    if (performance.now() > deadline) {
      thawCgroup(dir);
      throw new Error(`freeze of ${dir}: ${state} still reads ${JSON.stringify(text.trim())} after ${deadlineMs} ms; thawed again`);
    }
    // the kernel stops the tasks asynchronously: let it run before reading again
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
