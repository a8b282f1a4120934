/**
 * The process-wide registry of live sandboxes and what each holds on the host
 * (process groups and trees, temp dirs, backend-specific steps), so nothing outlives
 * rigor:
 *
 * - `destroyAllSandboxes()` is the orderly path. The runner's interrupt path
 *   (runner/run/interrupt.ts: first SIGINT/SIGTERM aborts the run) awaits it
 *   once workloads have stopped, so sandboxes a workload did not destroy
 *   itself are destroyed before the `interrupted` artifact is written.
 * - A synchronous `process.on('exit')` last resort (installed with the first
 *   tracked sandbox) SIGKILLs every recorded process tree and group, runs each
 *   backend's synchronous steps and removes recorded temp dirs. It covers
 *   `process.exit()` (the runner's second Ctrl-C) and uncaught errors.
 * - SIGTERM, SIGINT or SIGHUP of a process that does not handle them itself
 *   (a script or a test worker using sandbox-core) runs the same last resort,
 *   then ends the process of that signal (onEndingSignal).
 * - SIGKILL of rigor runs neither: backends make their children die with
 *   rigor (a parent-death signal: bwrap `--die-with-parent`, `setpriv
 *   --pdeathsig`; or end of stream on the agent's channel), and temp dirs
 *   made by `makeSandboxTempDir()` carry their owner's pid so the next rigor
 *   process removes those whose owner is dead (on its first track), with the
 *   uid locks of dead owners. What a backend's next create() sweeps and what
 *   `rigor doctor --clean` finds (leftovers.ts) cover the rest.
 *
 * A backend tracks a sandbox *before* it launches anything and adds each
 * resource as soon as it exists, so a create() that dies half-way is covered;
 * its destroy() untracks it when everything is gone.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { descendants, readProcTable } from '../base/proc-table.ts';
import { hostMountPoints, isInside, sweepStaleTempDirs } from '../base/temp-dirs.ts';
import { sweepStaleHostIdLocks } from './isolation/host-ids.ts';

/** What the last resort reclaims without help from the backend's async destroy(). */
export interface SandboxResources {
  /** Process groups (pgid) whose every member belongs to the sandbox. */
  processGroups: Set<number>;
  /** Pids whose whole tree of descendants belongs to the sandbox (children that left the group: setsid commands). */
  processTrees: Set<number>;
  /** Host directories removed recursively; never while a host mount lies under one. */
  tempDirs: Set<string>;
  /**
   * Backend-specific synchronous steps (`runc delete --force`, `umount -l`,
   * `ip link del`), run after the processes were killed and before the temp dirs
   * are removed. Each must be safe to run when its resource is already gone.
   */
  lastResort: Array<() => void>;
}

export interface TrackedSandbox {
  readonly id: string;
  readonly backend: string;
  readonly resources: SandboxResources;
  /** The backend's full, idempotent teardown; it untracks the sandbox when done. */
  destroy(): Promise<void>;
}

export function newResources(): SandboxResources {
  return { processGroups: new Set(), processTrees: new Set(), tempDirs: new Set(), lastResort: [] };
}

const live = new Map<string, TrackedSandbox>();
let exitHookInstalled = false;

let swept = false;
/** Synchronous steps the exit-time last resort runs once every sandbox was reclaimed (stopping a private engine daemon). */
const afterSandboxes = new Set<() => void>();

/** Marks onEndingSignal of every copy of this module, so that copies do not take each other for the program's handler. */
const LAST_RESORT = Symbol.for('rigor.sandbox-core.cleanup.last-resort');

/** Signals that end a Node process without its 'exit' event unless someone listens for them. */
const ENDING_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', reclaimAllSync);
  for (const signal of ENDING_SIGNALS) process.on(signal, onEndingSignal);
}

/**
 * A process that does not handle SIGTERM, SIGINT or SIGHUP itself (a script or test worker using
 * sandbox-core; vitest ends its workers with SIGTERM) dies of it without an 'exit' event: the last resort
 * runs here, then the signal is raised again with no listener left, so the process ends of it as it would
 * have. Where the program listens too (the runner's interrupt path: a first Ctrl-C aborts the run and
 * writes an `interrupted` artifact), it is left to the program.
 */
function onEndingSignal(signal: NodeJS.Signals): void {
  // Other copies of this module (a test runner isolating each file's modules) each reclaim their own.
  if (process.listeners(signal).some((listener) => !(LAST_RESORT in listener))) return;
  for (const each of ENDING_SIGNALS) process.off(each, onEndingSignal);
  reclaimAllSync();
  // Delivered once every listener of this signal returned: the other copies reclaim first.
  process.kill(process.pid, signal);
}
Object.defineProperty(onEndingSignal, LAST_RESORT, { value: true });

export function trackSandbox(sandbox: TrackedSandbox): void {
  live.set(sandbox.id, sandbox);
  installExitHook();
  if (!swept) {
    swept = true;
    sweepStaleTempDirs();
    sweepStaleTempDirs(SANDBOX_RUN_ROOT);
    sweepStaleTempDirs(SANDBOX_SHM_ROOT);
    // free for the taking already; gone, they no longer read as a run that did not clean up (rigor doctor)
    sweepStaleHostIdLocks();
  }
}

/**
 * Run `step` at process exit after every live sandbox was reclaimed: a
 * process-wide service the sandboxes depend on (a private dockerd, whose
 * containers the sandboxes' own last resorts remove through it) goes last.
 * Returns a function that unregisters it (once the service stopped itself).
 */
export function atExitAfterSandboxes(step: () => void): () => void {
  installExitHook();
  afterSandboxes.add(step);
  return () => afterSandboxes.delete(step);
}

export function untrackSandbox(sandbox: Pick<TrackedSandbox, 'id'>): void {
  live.delete(sandbox.id);
}

/** Sandboxes created and not yet destroyed, oldest first. */
export function liveSandboxes(): TrackedSandbox[] {
  return [...live.values()];
}

export interface DestroyAllResult {
  destroyed: number;
  /** Sandboxes whose destroy() threw; their resources were reclaimed by the last resort instead. */
  failed: Array<{ id: string; backend: string; error: string }>;
}

/** Destroy every live sandbox concurrently; one that fails is reclaimed synchronously and reported. */
export async function destroyAllSandboxes(): Promise<DestroyAllResult> {
  const sandboxes = liveSandboxes();
  const outcomes = await Promise.allSettled(sandboxes.map((sandbox) => sandbox.destroy()));
  const result: DestroyAllResult = { destroyed: 0, failed: [] };
  outcomes.forEach((outcome, index) => {
    const sandbox = sandboxes[index]!;
    if (outcome.status === 'fulfilled') {
      result.destroyed += 1;
    } else {
      reclaimSync(sandbox.resources);
      result.failed.push({ id: sandbox.id, backend: sandbox.backend, error: String(outcome.reason?.message ?? outcome.reason) });
    }
    untrackSandbox(sandbox);
  });
  return result;
}

/** SIGKILL every process of the recorded trees (found in one /proc scan) and groups; what is gone is ignored. */
export function killSync(resources: SandboxResources): void {
  const table = resources.processTrees.size > 0 ? readProcTable() : [];
  const targets = [...resources.processTrees].flatMap((root) => descendants(table, root));
  targets.push(...[...resources.processGroups].map((pgid) => -pgid));
  for (const target of targets) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kill, run the backend's steps, remove dirs: everything a sandbox held, synchronously, ignoring what is already gone. */
export function reclaimSync(resources: SandboxResources): void {
  killSync(resources);
  for (const step of resources.lastResort) {
    try {
      step();
    } catch {
      // a last resort must not stop the next one
    }
  }
  const mountPoints = hostMountPoints();
  for (const dir of resources.tempDirs) {
    // rm -rf through a live mount would delete what is mounted there (a host directory): leak the dir instead.
    if (mountPoints.some((point) => isInside(point, dir))) continue;
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // a dir that cannot be removed must not stop the next one
    }
  }
}

function reclaimAllSync(): void {
  for (const sandbox of live.values()) reclaimSync(sandbox.resources);
  live.clear();
  for (const step of afterSandboxes) {
    try {
      step();
    } catch {
      // a last resort must not stop the next one
    }
  }
  afterSandboxes.clear();
}

/**
 * Where run dirs of sandboxes whose processes run as their own unprivileged
 * uid are made: a root-owned path every uid can search, whatever TMPDIR is.
 */
export const SANDBOX_RUN_ROOT = '/run/rigor/sandboxes';

/** A temp dir (as makeSandboxTempDir) under SANDBOX_RUN_ROOT, owned by `uid`: what a sandbox's own processes may write. */
export function makeSandboxRunDir(resources: SandboxResources, backend: string, uid: number): string {
  for (const level of [dirname(SANDBOX_RUN_ROOT), SANDBOX_RUN_ROOT]) {
    mkdirSync(level, { recursive: true });
    chmodSync(level, level === SANDBOX_RUN_ROOT ? 0o711 : 0o755);
  }
  const dir = mkdtempSync(join(SANDBOX_RUN_ROOT, `rigor-${backend}-${process.pid}-`));
  resources.tempDirs.add(dir);
  chownSync(dir, uid, uid);
  return dir;
}

/** Where a sandbox's memory files go (qemu's guest RAM): a tmpfs, so they are shmem pages, as a memfd's. */
export const SANDBOX_SHM_ROOT = '/dev/shm';

/** A temp dir (as makeSandboxRunDir) under SANDBOX_SHM_ROOT, owned by `uid`. */
export function makeSandboxShmDir(resources: SandboxResources, backend: string, uid: number): string {
  const dir = mkdtempSync(join(SANDBOX_SHM_ROOT, `rigor-${backend}-${process.pid}-`));
  resources.tempDirs.add(dir);
  chownSync(dir, uid, uid);
  return dir;
}

/**
 * A fresh directory under os.tmpdir() (so TMPDIR), named
 * `rigor-<backend>-<owner pid>-XXXXXX`, recorded in `resources`.
 */
export function makeSandboxTempDir(resources: SandboxResources, backend: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rigor-${backend}-${process.pid}-`));
  resources.tempDirs.add(dir);
  return dir;
}
