/**
 * What a rigor process that died without cleaning up (SIGKILL, a reboot
 * mid-teardown) left on the host, found by rigor's own markers alone — the
 * owner pid in temp dir, cgroup and sandbox names (`rigor-runc-<pid>-XXXXXX`,
 * `bwrap-<pid>-<hex>`), the `rigor.owner` label of containers, the pid in
 * uid and private-dockerd slot locks — and removed on request (`rigor doctor
 * --clean`). An owner is dead when no process has its pid; a reused pid keeps
 * its leftovers (a leak, never a live sandbox lost), as the sweeps do.
 *
 * The next rigor start sweeps most of this by itself (cleanup.ts); this sees
 * everything at once, across backends and cgroups, and says what it found.
 * Every removal is idempotent and found again by its marker, so an
 * interrupted clean leaves nothing the next one (or the next run) cannot take.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupProcs, parseCgroupMounts, parseSubsystems, removeCgroupDirs, thawCgroup } from '../base/cgroups.ts';
import { readProcTable } from '../base/proc-table.ts';
import { processExists, signalQuietly } from '../base/signal.ts';
import { isInside, tempDirOwner } from '../base/temp-dirs.ts';
import { SANDBOX_ID_ENV } from './backends/agent-sandbox.ts';
import { plainConnection, runEngine, type EngineConnection } from './backends/engines/engine.ts';
import { deadDockerdSlots, reclaimDockerdSlot, remappedSlotDirs, type DockerdSlotPaths } from './backends/engines/private-dockerd.ts';
import { forgottenRuncState, staleContainers, sweepStaleContainers } from './backends/engines/stale.ts';
import { OWNER_LABEL } from './backends/engines/run-args.ts';
import { connectPodman } from './backends/podman.ts';
import { SANDBOX_RUN_ROOT, SANDBOX_SHM_ROOT } from './cleanup.ts';
import { tryTake } from './isolation/host-ids.ts';
import { which } from '../base/which.ts';

export const LEFTOVER_KINDS = ['process', 'daemon', 'container', 'runtime-state', 'mount', 'cgroup', 'temp-dir', 'lock'] as const;
export type LeftoverKind = (typeof LEFTOVER_KINDS)[number];

export interface Leftover {
  kind: LeftoverKind;
  /** What it is, for a person: a path, "pid 42 (runc init)", "podman container bwrap-…". */
  what: string;
  /** The dead rigor process it belonged to; undefined for a dead private-dockerd slot with no lock left. */
  owner: number | undefined;
}

/** How each leftover is removed; kept beside the report, not in it. */
type Removal =
  | { via: 'kill'; pid: number }
  | { via: 'engine'; connection: EngineConnection }
  | { via: 'runtime'; command: string; root: string; id: string }
  | { via: 'slot'; paths: DockerdSlotPaths }
  | { via: 'umount'; point: string }
  | { via: 'cgroup'; dir: string }
  | { via: 'rm'; dir: string }
  | { via: 'unlink'; file: string; owner: number };

export interface FoundLeftover extends Leftover {
  removal: Removal;
}

export interface LeftoverOptions {
  /** Where temp dirs are made (default os.tmpdir(), SANDBOX_RUN_ROOT and SANDBOX_SHM_ROOT, qemu's guest RAM). */
  tempRoots?: string[];
  /** Only leftovers of these owner pids (the kill battery's killed runs); default every dead owner. */
  owners?: ReadonlySet<number>;
  /** Ask docker and podman for containers (seconds each); default true. */
  engines?: boolean;
  /** Where uid locks live (isolation/host-ids.ts). */
  hostIdLockDir?: string;
}

const HOST_ID_LOCKS = '/run/rigor/host-ids';
/** A sandbox id in a command line or environment: `rigor-<backend>-<pid>-XXXXXX` (runc's) or `<backend>-<pid>-<8 hex>`, or a watchdog's `rigor-<backend>-<pid>-` prefix. */
const OWNER_MARKS = /(?:^|[^A-Za-z0-9])(?:rigor-[a-z0-9]+-(\d+)-|(?:process|bwrap|qemu|firecracker|docker|podman)-(\d+)-[0-9a-f]{8}(?![0-9a-f]))/g;
/** How deep below a hierarchy's root rigor's cgroups are looked for (a session's own cgroup holds bwrap's). */
const CGROUP_DEPTH = 5;

/** Owner pids marked in `text` (a command line, an environment). */
export function ownerMarks(text: string): number[] {
  return [...text.matchAll(OWNER_MARKS)].map((match) => Number(match[1] ?? match[2]));
}

/** Everything found, in removal order: containers and runtime state first, then processes, mounts, cgroups, dirs and locks. */
export async function findLeftovers(options: LeftoverOptions = {}): Promise<FoundLeftover[]> {
  const wanted = (owner: number | undefined): boolean =>
    options.owners ? owner !== undefined && options.owners.has(owner) : owner === undefined || (owner !== process.pid && !processExists(owner));
  const found: FoundLeftover[] = [];
  const slots = deadDockerdSlots().filter((paths) => wanted(lockOwner(paths.lock)));
  if (options.engines !== false) found.push(...(await containerLeftovers(wanted)));
  const tempDirs = staleTempDirs(options.tempRoots ?? [tmpdir(), SANDBOX_RUN_ROOT, SANDBOX_SHM_ROOT], wanted);
  found.push(...runtimeStates(tempDirs));
  found.push(...processLeftovers(wanted, slots));
  found.push(...mountLeftovers(tempDirs, slots, wanted));
  found.push(...cgroupLeftovers(wanted, slots));
  for (const { dir, owner } of tempDirs) found.push({ kind: 'temp-dir', what: dir, owner, removal: { via: 'rm', dir } });
  for (const paths of slots) {
    const owner = lockOwner(paths.lock);
    for (const dir of [paths.dir, ...remappedSlotDirs(paths)].filter((path) => existsSync(path))) found.push({ kind: 'temp-dir', what: dir, owner, removal: { via: 'slot', paths } });
    if (owner !== undefined) found.push({ kind: 'lock', what: paths.lock, owner, removal: { via: 'slot', paths } });
  }
  found.push(...hostIdLocks(options.hostIdLockDir ?? HOST_ID_LOCKS, wanted));
  return found;
}

export interface CleanResult {
  removed: Leftover[];
  failed: Array<Leftover & { error: string }>;
}

/** Remove what findLeftovers() found, in its order; one that fails is reported and the rest still go. */
export async function removeLeftovers(found: FoundLeftover[]): Promise<CleanResult> {
  const result: CleanResult = { removed: [], failed: [] };
  const done = new Set<string>();
  for (const leftover of found) {
    const { removal, ...shown } = leftover;
    try {
      // one engine sweep, one slot reclaim covers several entries
      const key = removal.via === 'engine' ? `engine ${removal.connection.cli}` : removal.via === 'slot' ? `slot ${removal.paths.slot}` : '';
      if (!key || !done.has(key)) await remove(removal);
      if (key) done.add(key);
      result.removed.push(shown);
    } catch (error) {
      result.failed.push({ ...shown, error: (error as Error).message });
    }
  }
  return result;
}

async function remove(removal: Removal): Promise<void> {
  switch (removal.via) {
    case 'kill':
      signalQuietly(removal.pid, 'SIGKILL');
      return;
    case 'engine':
      await sweepStaleContainers(removal.connection);
      return;
    case 'runtime':
      execFileSync(removal.command, ['--root', removal.root, 'delete', '--force', removal.id], { stdio: 'ignore', timeout: 10_000 });
      return;
    case 'slot':
      // taken over first: a rigor starting a daemon in the slot meanwhile keeps it
      if (!tryTake(removal.paths.lock)) throw new Error(`slot ${removal.paths.slot} was taken by a live process meanwhile`);
      try {
        reclaimDockerdSlot(removal.paths);
      } finally {
        rmSync(removal.paths.lock, { force: true });
      }
      return;
    case 'umount':
      execFileSync('umount', ['-l', removal.point], { stdio: 'ignore', timeout: 10_000 });
      return;
    case 'cgroup':
      await removeCgroup(removal.dir);
      return;
    case 'rm':
      rmSync(removal.dir, { recursive: true, force: true, maxRetries: 2 });
      return;
    case 'unlink':
      // only while it still names the dead owner: a live rigor may have taken the slot over meanwhile
      if (lockOwner(removal.file) === removal.owner) unlinkSync(removal.file);
  }
}

/** Thaw, kill what is in it, rmdir (children first); retried while killed processes leave. */
async function removeCgroup(dir: string): Promise<void> {
  const dirs = [...cgroupTree(dir)].reverse();
  for (let attempt = 0; ; attempt++) {
    for (const entry of dirs) {
      thawCgroup(entry);
      for (const pid of cgroupProcs(entry)) signalQuietly(pid, 'SIGKILL');
    }
    const left = removeCgroupDirs(dirs.map((entry) => ({ controllers: [], dir: entry })));
    if (left.length === 0) return;
    if (attempt >= 20) throw new Error(`cgroup ${left[0]} stays (processes still in it)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `dir` and every cgroup below it, parents first. */
function cgroupTree(dir: string): string[] {
  const out = [dir];
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) out.push(...cgroupTree(join(dir, entry.name)));
  } catch {
    // gone
  }
  return out;
}

function lockOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function staleTempDirs(roots: string[], wanted: (owner: number | undefined) => boolean): Array<{ dir: string; kind: string; owner: number }> {
  return roots.flatMap((root) => {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const marked = tempDirOwner(name);
      return marked && wanted(marked.owner) ? [{ dir: join(root, name), ...marked }] : [];
    });
  });
}

/** runc and runsc containers recorded in a stale temp dir's state root (`<dir>/state/<id>`): their `runc init` may still wait. */
function runtimeStates(tempDirs: Array<{ dir: string; kind: string; owner: number }>): FoundLeftover[] {
  return tempDirs.flatMap(({ dir, kind, owner }) => {
    const root = join(dir, 'state');
    const command = kind === 'gvisor' ? 'runsc' : 'runc';
    let ids: string[];
    try {
      ids = readdirSync(root).filter((id) => existsSync(join(root, id, 'state.json')));
    } catch {
      return [];
    }
    return ids.map((id) => ({ kind: 'runtime-state' as const, what: `${command} container ${id} (${join(root, id)})`, owner, removal: { via: 'runtime' as const, command, root, id } }));
  });
}

/** Processes marked with a dead owner (command line or sandbox id in the environment), and the daemons of dead private-dockerd slots. */
function processLeftovers(wanted: (owner: number | undefined) => boolean, slots: DockerdSlotPaths[]): FoundLeftover[] {
  const found: FoundLeftover[] = [];
  for (const entry of readProcTable()) {
    if (entry.pid === process.pid || entry.state === 'Z') continue;
    const argv = read(`/proc/${entry.pid}/cmdline`).split('\0').join(' ').trim();
    const slot = slots.find((paths) => argv.includes(`${paths.dir}/`));
    if (slot) {
      found.push({ kind: 'daemon', what: `pid ${entry.pid} (${argv.slice(0, 80)})`, owner: lockOwner(slot.lock), removal: { via: 'kill', pid: entry.pid } });
      continue;
    }
    const environ = read(`/proc/${entry.pid}/environ`).split('\0').find((line) => line.startsWith(`${SANDBOX_ID_ENV}=`)) ?? '';
    const owner = [...ownerMarks(argv), ...ownerMarks(environ.slice(SANDBOX_ID_ENV.length + 1))].find((pid) => wanted(pid));
    if (owner !== undefined) found.push({ kind: 'process', what: `pid ${entry.pid} (${argv.slice(0, 80)})`, owner, removal: { via: 'kill', pid: entry.pid } });
  }
  return found;
}

/** Mount points under a stale temp dir or a dead slot's dirs, or naming a dead owner's sandbox; deepest first. */
function mountLeftovers(tempDirs: Array<{ dir: string }>, slots: DockerdSlotPaths[], wanted: (owner: number | undefined) => boolean): FoundLeftover[] {
  const roots = [...tempDirs.map(({ dir }) => dir), ...slots.flatMap((paths) => [paths.dir, paths.dataRoot, ...remappedSlotDirs(paths)])];
  const points = read('/proc/self/mountinfo')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point): point is string => point !== undefined);
  return [...new Set(points)]
    .flatMap((point) => {
      const under = roots.find((root) => isInside(point, root));
      const owner = under !== undefined ? ownerMarks(under)[0] : ownerMarks(point).find((pid) => wanted(pid));
      return under !== undefined || owner !== undefined ? [{ kind: 'mount' as const, what: point, owner, removal: { via: 'umount' as const, point } }] : [];
    })
    .sort((a, b) => b.what.length - a.what.length);
}

/**
 * rigor's cgroups whose owner is dead, in every hierarchy down to CGROUP_DEPTH: runc's and gvisor's
 * containers (`rigor-runc-<pid>-XXXXXX`), bwrap's limits (`rigor-sandboxes/<backend>-<pid>-<hex>`), a dead
 * private dockerd's container parent (`rigor-dockerd-<slot>`).
 */
function cgroupLeftovers(wanted: (owner: number | undefined) => boolean, slots: DockerdSlotPaths[]): FoundLeftover[] {
  const mounts = parseCgroupMounts(read('/proc/self/mountinfo'), parseSubsystems(read('/proc/cgroups')));
  const deadSlots = new Set(slots.map((paths) => paths.cgroupParent));
  const found: FoundLeftover[] = [];
  const add = (dir: string, owner: number | undefined) => found.push({ kind: 'cgroup', what: dir, owner, removal: { via: 'cgroup', dir } });
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const container = /^rigor-[a-z0-9]+-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
      if (container) {
        if (wanted(Number(container[1]))) add(path, Number(container[1]));
      } else if (name === 'rigor-sandboxes') {
        for (const child of cgroupChildren(path)) {
          const owner = Number(/^[a-z0-9]+-(\d+)-/.exec(child)?.[1]);
          if (Number.isInteger(owner) && wanted(owner)) add(join(path, child), owner);
        }
      } else if (deadSlots.has(name)) {
        add(path, lockOwner(slots.find((paths) => paths.cgroupParent === name)!.lock));
      } else if (depth < CGROUP_DEPTH && !name.startsWith('rigor-')) {
        walk(path, depth + 1);
      }
    }
  };
  for (const mount of mounts) walk(mount.mountPoint, 1);
  return found;
}

function cgroupChildren(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** uid pair locks naming a dead owner: free for the taking already, but a record of a run that did not clean up. */
function hostIdLocks(dir: string, wanted: (owner: number | undefined) => boolean): FoundLeftover[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const file = join(dir, name);
    const owner = lockOwner(file);
    return owner !== undefined && wanted(owner) ? [{ kind: 'lock' as const, what: file, owner, removal: { via: 'unlink' as const, file, owner } }] : [];
  });
}

/** Containers of docker (the engine that answers, never a private one started for this) and podman whose rigor.owner is dead, and podman's forgotten runc state. */
async function containerLeftovers(wanted: (owner: number | undefined) => boolean): Promise<FoundLeftover[]> {
  const connections: EngineConnection[] = [];
  if (which('docker')) connections.push(plainConnection('docker'));
  if (which('podman')) connections.push(await connectPodman());
  const found: FoundLeftover[] = [];
  for (const connection of connections) {
    const listed = await runEngine(connection, ['ps', '--all', '--filter', `label=${OWNER_LABEL}`, '--format', '{{.Names}}\t{{.Labels}}'], 20_000);
    if (!listed.ok) continue;
    const owners = new Map<string, number>();
    for (const line of listed.stdout.split('\n')) {
      const [name, labels] = line.trim().split('\t');
      const owner = Number(new RegExp(`${OWNER_LABEL.replace('.', '\\.')}[=:](\\d+)`).exec(labels ?? '')?.[1]);
      if (name && Number.isInteger(owner)) owners.set(name, owner);
    }
    for (const name of staleContainers(listed.stdout, processExists)) {
      const owner = owners.get(name);
      if (owner !== undefined && wanted(owner)) found.push({ kind: 'container', what: `${connection.cli} container ${name}`, owner, removal: { via: 'engine', connection } });
    }
    // forgotten runc state has no owner mark of its own: listed only when every dead owner is asked for
    for (const id of await forgottenRuncState(connection).catch(() => [])) {
      if (wanted(undefined)) found.push({ kind: 'runtime-state', what: `${connection.cli}'s runc container ${id} (${connection.runcState!.root})`, owner: undefined, removal: { via: 'engine', connection } });
    }
  }
  return found;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
