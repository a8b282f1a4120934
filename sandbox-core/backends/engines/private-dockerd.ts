/**
 * A dockerd of rigor's own, for a root rigor on a host where no Docker engine
 * answers: started lazily once per process, reused by every docker sandbox of
 * it, and stopped when the process ends.
 *
 * - Slots: each concurrent rigor process gets a slot (an exclusively created
 *   lock file naming its pid, as isolation/host-ids.ts holds uid pairs), so no
 *   two daemons share a data root. A slot whose owner died is taken over, and
 *   what its daemon left (dockerd, containerd, shims and their containers,
 *   mounts, cgroups) is reclaimed before a new daemon starts there.
 * - Paths: socket, exec root and pidfile under /run/rigor/dockerd/<slot>/
 *   (short: a unix socket path holds at most 108 bytes); the data root under
 *   /var/cache/rigor/dockerd/<slot>, kept across runs so an imported image is
 *   imported once. Not under ~/.cache: with --userns-remap dockerd refuses a
 *   data root below a directory the remapped root cannot search (root's home
 *   is 0700).
 * - Flags: no iptables, no masquerade, no bridge (containers run with
 *   --network none), the cgroupfs driver (no systemd here), containers'
 *   cgroups under the daemon's own (a relative --cgroup-parent), a short
 *   shutdown timeout, --userns-remap default (root in a container is
 *   dockremap's subordinate uid, not host root), and runsc registered as a
 *   runtime (ptrace platform) when it is on PATH.
 * - Lifetime: dockerd runs under `setpriv --pdeathsig TERM`, so it shuts down
 *   (stopping its containers and containerd) when rigor dies even by SIGKILL;
 *   an orderly end (stopPrivateDockerd, or the exit-time last resort after
 *   every sandbox) sends SIGTERM, waits, then SIGKILLs what is left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { descendants, readProcTable } from '../../../base/proc-table.ts';
import { cgroupDirsFor, cgroupProcs, removeCgroupDirs, thawCgroup } from '../../../base/cgroups.ts';
import { processExists, signalQuietly } from '../../../base/signal.ts';
import { sleepSync } from '../../../base/sleep-sync.ts';
import { lastLines } from '../../../base/tail.ts';
import { which } from '../../../base/which.ts';
import { atExitAfterSandboxes } from '../../cleanup.ts';
import { tryTake } from '../../isolation/host-ids.ts';

export const PRIVATE_DOCKERD_RUN_ROOT = '/run/rigor/dockerd';
export const PRIVATE_DOCKERD_DATA_ROOT = '/var/cache/rigor/dockerd';
/** Concurrent rigor processes with a private dockerd each. */
const SLOTS = 32;
/** How long dockerd may take to answer on its socket (the first start initializes its data root). */
const START_TIMEOUT_MS = 60_000;
/** How long a SIGTERMed dockerd may take to stop its containers and containerd before everything is SIGKILLed. */
const STOP_GRACE_MS = 20_000;
/** The runtime name and gVisor platform registered for `--runtime runsc`. */
export const RUNSC_RUNTIME = 'runsc';
export const RUNSC_PLATFORM = 'ptrace';

export interface DockerdSlotPaths {
  slot: number;
  /** Run dir: socket, exec root, pidfile, config and log. */
  dir: string;
  socket: string;
  execRoot: string;
  pidfile: string;
  config: string;
  log: string;
  lock: string;
  dataRoot: string;
  /** Containers' cgroups, relative to the daemon's own. */
  cgroupParent: string;
}

export function dockerdSlotPaths(slot: number, roots = { run: PRIVATE_DOCKERD_RUN_ROOT, data: PRIVATE_DOCKERD_DATA_ROOT }): DockerdSlotPaths {
  const dir = join(roots.run, String(slot));
  return {
    slot,
    dir,
    socket: join(dir, 'sock'),
    execRoot: join(dir, 'exec'),
    pidfile: join(dir, 'dockerd.pid'),
    config: join(dir, 'daemon.json'),
    log: join(dir, 'dockerd.log'),
    lock: join(roots.run, `${slot}.lock`),
    dataRoot: join(roots.data, String(slot)),
    cgroupParent: `rigor-dockerd-${slot}`,
  };
}

/** The flags rigor gives its dockerd, as facts.engine.flags records them. */
export const PRIVATE_DOCKERD_FLAGS = [
  '--iptables=false',
  '--ip-masq=false',
  '--bridge=none',
  '--exec-opt',
  'native.cgroupdriver=cgroupfs',
  '--userns-remap',
  'default',
  '--shutdown-timeout',
  '2',
] as const;

/** dockerd's whole command line for a slot (pure). */
export function privateDockerdArgs(paths: DockerdSlotPaths): string[] {
  return [
    '--config-file',
    paths.config,
    ...PRIVATE_DOCKERD_FLAGS,
    '--cgroup-parent',
    paths.cgroupParent,
    '--data-root',
    paths.dataRoot,
    '--exec-root',
    paths.execRoot,
    '--pidfile',
    paths.pidfile,
    '-H',
    `unix://${paths.socket}`,
  ];
}

/**
 * runsc's flags under an engine: the platform that runs here, no network stack of gVisor's own (the
 * containers run with --network none; without it runsc refuses the engine's namespace as the host's), and
 * the container's seccomp profile applied by the Sentry (runsc ignores it without --oci-seccomp: the escape
 * battery's nest-user-namespace succeeded under docker and podman with runsc until this flag).
 */
export const RUNSC_FLAGS = [`--platform=${RUNSC_PLATFORM}`, '--network=none', '--oci-seccomp'] as const;

/** daemon.json: runsc registered when `runsc` is its path, nothing else. */
export function privateDockerdConfig(runsc: string | null): Record<string, unknown> {
  return runsc ? { runtimes: { [RUNSC_RUNTIME]: { path: runsc, runtimeArgs: [...RUNSC_FLAGS] } } } : {};
}

export interface PrivateDockerd {
  paths: DockerdSlotPaths;
  pid: number;
  /** DOCKER_HOST of the daemon. */
  host: string;
  /** Flags rigor started it with (data and run paths left out). */
  flags: string[];
}

interface DaemonState {
  started: Promise<PrivateDockerd> | undefined;
  running: { daemon: PrivateDockerd; exited: Promise<void>; unregister: () => void } | undefined;
}

// One per process even when vitest or a runner loads this module twice.
const STATE_KEY = Symbol.for('rigor.private-dockerd');
const state: DaemonState = ((globalThis as Record<symbol, unknown>)[STATE_KEY] ??= { started: undefined, running: undefined }) as DaemonState;

/** Why this process cannot start a private dockerd, or null when it can. */
export function privateDockerdBlocker(): string | null {
  if (process.getuid?.() !== 0) return 'rigor starts a private dockerd only as root';
  if (!which('dockerd')) return 'dockerd is not on PATH to start a private one (apt-get install docker.io)';
  if (!which('setpriv')) return 'setpriv (util-linux) not on PATH';
  return null;
}

/** This process's private dockerd, started on the first call; a failed start is retried by the next call. */
export function privateDockerd(): Promise<PrivateDockerd> {
  state.started ??= startPrivateDockerd().catch((error: unknown) => {
    state.started = undefined;
    throw error;
  });
  return state.started;
}

/** Stop this process's private dockerd (SIGTERM, then SIGKILL of whatever is left after STOP_GRACE_MS) and free its slot. */
export async function stopPrivateDockerd(): Promise<void> {
  const running = state.running;
  if (!running) return;
  state.running = undefined;
  state.started = undefined;
  running.unregister();
  signalQuietly(running.daemon.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([running.exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))]);
  clearTimeout(timer);
  reclaimDockerdSlot(running.daemon.paths);
  releaseSlot(running.daemon.paths);
}

async function startPrivateDockerd(): Promise<PrivateDockerd> {
  const blocker = privateDockerdBlocker();
  if (blocker) throw new Error(blocker);
  const paths = takeSlot();
  try {
    reclaimDockerdSlot(paths);
    // the other slots a SIGKILLed rigor left (their daemons are down by now: pdeathsig), not only the one taken
    reclaimDeadDockerdSlots();
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    mkdirSync(paths.dataRoot, { recursive: true, mode: 0o711 });
    const runsc = which('runsc');
    writeFileSync(paths.config, JSON.stringify(privateDockerdConfig(runsc)));
    const log = openSync(paths.log, 'w');
    const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'dockerd', ...privateDockerdArgs(paths)], {
      // its own group: a Ctrl-C aimed at rigor reaches dockerd only through rigor, after the sandboxes
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const failedToSpawn = new Promise<never>((_, reject) => child.once('error', reject));
    failedToSpawn.catch(() => undefined); // awaited below only while starting
    const pid = child.pid;
    if (pid === undefined) await failedToSpawn;
    const daemon: PrivateDockerd = {
      paths,
      pid: pid!,
      host: `unix://${paths.socket}`,
      flags: [...PRIVATE_DOCKERD_FLAGS],
    };
    const unregister = atExitAfterSandboxes(() => stopSync(daemon));
    state.running = { daemon, exited, unregister };
    try {
      await Promise.race([waitForSocket(paths.socket, exited), failedToSpawn]);
    } catch (error) {
      // read before the stop removes the run dir
      const logLine = lastLogLine(paths.log);
      await stopPrivateDockerd();
      throw new Error(`private dockerd (slot ${paths.slot}) did not start: ${(error as Error).message}; its log ended: ${logLine}`);
    }
    return daemon;
  } catch (error) {
    if (!state.running) releaseSlot(paths);
    throw error;
  }
}

function takeSlot(): DockerdSlotPaths {
  mkdirSync(PRIVATE_DOCKERD_RUN_ROOT, { recursive: true, mode: 0o700 });
  for (let slot = 0; slot < SLOTS; slot++) {
    const paths = dockerdSlotPaths(slot);
    if (tryTake(paths.lock)) return paths;
  }
  throw new Error(`no free private dockerd slot: all ${SLOTS} locks in ${PRIVATE_DOCKERD_RUN_ROOT} are held by live processes`);
}

function releaseSlot(paths: DockerdSlotPaths): void {
  try {
    if (readFileSync(paths.lock, 'utf8') === String(process.pid)) unlinkSync(paths.lock);
  } catch {
    // already gone
  }
}

/** GET /_ping on the socket until it answers OK; rejects when the daemon exits first or START_TIMEOUT_MS passes. */
async function waitForSocket(socket: string, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await ping(socket))) {
    if (gone) throw new Error('dockerd exited before it answered');
    if (Date.now() > deadline) throw new Error(`no answer on ${socket} within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function ping(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function lastLogLine(log: string): string {
  try {
    return lastLines(readFileSync(log, 'utf8'), 1) || '(empty)';
  } catch {
    return '(unreadable)';
  }
}

/** The exit-time stop: SIGTERM, wait (synchronously, the process is exiting), then reclaim what is left. */
function stopSync(daemon: PrivateDockerd): void {
  state.running = undefined;
  signalQuietly(daemon.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline && alive(daemon.pid)) sleepSync(50);
  reclaimDockerdSlot(daemon.paths);
  releaseSlot(daemon.paths);
}

/** Whether `pid` runs (a zombie, dead and awaiting its parent, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function readPid(pidfile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * Everything of a slot's daemon that is still there, SIGKILLed or removed,
 * synchronously: dockerd and containerd (by their pidfiles, when the pid
 * still runs that program), the shims of its containerd (their command
 * line names its exec root) with everything below them, the containers'
 * cgroups, the mounts under its data and exec roots, and the run dir. Safe
 * when nothing is left; the data root itself (images) is kept.
 */
export function reclaimDockerdSlot(paths: DockerdSlotPaths): void {
  const targets: number[] = [];
  const daemons: Array<[string, string]> = [
    [paths.pidfile, 'dockerd'],
    [join(paths.execRoot, 'containerd', 'containerd.pid'), 'containerd'],
  ];
  for (const [pidfile, program] of daemons) {
    const pid = readPid(pidfile);
    if (pid !== undefined && cmdline(pid).includes(program) && cmdline(pid).includes(paths.execRoot)) targets.push(pid);
  }
  const table = readProcTable();
  for (const entry of table) {
    if (entry.state === 'Z') continue;
    const line = cmdline(entry.pid);
    if (line.includes('containerd-shim') && line.includes(`${paths.execRoot}/`)) targets.push(...descendants(table, entry.pid));
  }
  const cgroups = containerCgroups(paths);
  for (const { dir } of cgroups) thawCgroup(dir);
  for (const { dir } of cgroups) targets.push(...cgroupProcs(dir));
  for (const pid of new Set(targets)) signalQuietly(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && targets.some(alive)) sleepSync(20);
  const remapped = remappedSlotDirs(paths);
  unmountUnder([paths.dataRoot, paths.dir, ...remapped]);
  removeCgroupDirs(cgroups);
  rmSync(paths.dir, { recursive: true, force: true });
  for (const dir of remapped) rmSync(dir, { recursive: true, force: true });
}

/**
 * What dockerd under --userns-remap makes beside the slot's run dir for the remapped root:
 * `<run root>.<uid>.<gid>/<slot>.<uid>.<gid>` (its exec root's copy); left by every daemon of the slot.
 */
export function remappedSlotDirs(paths: DockerdSlotPaths): string[] {
  const parent = dirname(dirname(paths.lock));
  const base = basename(dirname(paths.lock));
  const found: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  for (const name of names.filter((entry) => entry.startsWith(`${base}.`) && /^\.\d+\.\d+$/.test(entry.slice(base.length)))) {
    const suffix = name.slice(base.length);
    const dir = join(parent, name, `${paths.slot}${suffix}`);
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

/** Slots whose lock names a dead process, or whose run dir is there without a lock: a SIGKILLed rigor's daemon and what it left. */
export function deadDockerdSlots(roots = { run: PRIVATE_DOCKERD_RUN_ROOT, data: PRIVATE_DOCKERD_DATA_ROOT }): DockerdSlotPaths[] {
  let names: string[];
  try {
    names = readdirSync(roots.run);
  } catch {
    return [];
  }
  const slots = new Set(names.map((name) => /^(\d+)(?:\.lock)?$/.exec(name)?.[1]).filter((slot): slot is string => slot !== undefined).map(Number));
  return [...slots]
    .sort((a, b) => a - b)
    .map((slot) => dockerdSlotPaths(slot, roots))
    .filter((paths) => {
      const owner = ownerOf(paths.lock);
      return owner === undefined || (owner !== process.pid && !processExists(owner));
    });
}

/** The pid a lock file names; undefined when there is no lock (or it names none). */
function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reclaim every dead slot (deadDockerdSlots), each under its lock taken over first, so that a rigor
 * starting a daemon there meanwhile is never reclaimed; returns the slots reclaimed. What a kill of
 * this step leaves is a lock naming a dead pid again: the next sweep takes it over.
 */
export function reclaimDeadDockerdSlots(): number[] {
  const reclaimed: number[] = [];
  for (const paths of deadDockerdSlots()) {
    if (!tryTake(paths.lock)) continue;
    try {
      reclaimDockerdSlot(paths);
      reclaimed.push(paths.slot);
    } finally {
      releaseSlot(paths);
    }
  }
  return reclaimed;
}

/** Container cgroup dirs under the slot's parent (in this process's cgroups: where a daemon of it put them), deepest first, then the parent. */
function containerCgroups(paths: DockerdSlotPaths): Array<{ controllers: string[]; dir: string }> {
  const found: Array<{ controllers: string[]; dir: string }> = [];
  for (const parent of cgroupDirsFor(paths.cgroupParent)) {
    let names: string[] = [];
    try {
      names = readdirSync(parent.dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      continue;
    }
    found.push(...names.map((name) => ({ controllers: parent.controllers, dir: join(parent.dir, name) })));
    found.push(parent);
  }
  return found;
}

/** Lazily unmount every mount point under `dirs`, deepest first. */
function unmountUnder(dirs: string[]): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && dirs.some((dir) => point === dir || point.startsWith(`${dir}/`)))
    .map((point) => point.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    try {
      // -l: a busy mount is detached now and freed when its last user goes
      execFileSync('umount', ['-l', point], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // gone meanwhile, or not ours to unmount: the next one still goes
    }
  }
}
