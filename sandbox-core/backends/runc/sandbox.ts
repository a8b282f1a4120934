/**
 * One runc container whose process is the agent, talking over the stdio of
 * `runc run` (runc passes its fds straight to the container when terminal
 * is false): ChildSandbox's launch, handshake and reap. Pause and resume
 * write the container's freezer cgroup directly, as `runc pause` would, with
 * no runc process; memory is the PSS of `runc run` plus every process in the
 * container's pids cgroup. Teardown: the agent exits at the end of its
 * channel and `runc run` then deletes the container and exits; only when it
 * has not within a grace is the container killed (`runc kill KILL`, or
 * `delete --force` when frozen). Once `runc run` has exited and before the
 * temp dir holding runc's state goes, a sweep of what a runc killed half-way
 * can leave: the container's state and its cgroup directories.
 * The sandbox's pair of host ids is acquired when the bundle is written and
 * released once nothing of the container is left (or by the last resort).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { makeSandboxTempDir, newResources, trackSandbox } from '../../cleanup.ts';
import { acquireHostIds, INSIDE_COMMAND_ID, type HostIds } from '../../isolation/host-ids.ts';
import { limitEvents } from '../../isolation/cgroup-limits.ts';
import type { Limits } from '../../isolation/limits.ts';
import { ChildSandbox, type ChildLaunch } from '../child-sandbox.ts';
import { memoryOf } from '../memory.ts';
import { signalQuietly } from '../../../base/signal.ts';
import type { ForkInfo, IsolationFacts, SandboxSpec, SandboxStats, SnapshotInfo } from '../types.ts';
import { initPidFrom, writeForkImage } from './fork.ts';
import { cgroupDirsFor, cgroupProcs, dirOf, freezeCgroup, removeCgroupDirs, thawCgroup, type CgroupDir } from '../../../base/cgroups.ts';
import { whichOnce } from '../../../base/which.ts';
import { runcSnapshotSupport } from './criu.ts';
import type { OciConfig } from './oci-config.ts';
import { RUNC_RUNTIME, runc, runcDeleteSync, runcOrThrow, runtimeArgs, type OciRuntime } from './runc-cli.ts';

/** How long destroy() lets the agent, its channel ended, exit and `runc run` delete the container before killing it. */
const AGENT_EXIT_GRACE_MS = 500;

/** Host paths of one sandbox, all under one temp dir whose name is also the container id and cgroup name. */
export interface RuncPaths {
  dir: string;
  bundle: string;
  state: string;
}

export interface RuncIsolation {
  /** The limits the container runs under (limitsOf(spec), the backend's pids default filled in). */
  limits: Limits;
  /** Name of the seccomp profile in the container's config ('unconfined' when the spec asked for none). */
  seccompProfile: string;
}

export class RuncSandbox extends ChildSandbox {
  readonly paths: RuncPaths;
  /** The container's cgroup directories (one per hierarchy), known before runc makes them. */
  readonly cgroups: CgroupDir[];
  /** After terminate(): `runc kill` stops the container, and `runc run` exits once it has deleted it. */
  protected override readonly exitGraceMs = 2000;

  /** See RuncIsolation. */
  readonly limits: Limits;
  readonly seccompProfile: string;

  #paused = false;
  #hostIds: HostIds | undefined;
  /** A checkpoint image directory the container is restored from (`<runtime> restore --image-path`) instead of run; gvisor's restore sets it. */
  protected restoreImage: string | undefined;

  /**
   * `config` makes the container's config.json once `paths` exist and `hostIds` are held; `runtime`
   * runs it (runc unless told otherwise) and names the sandbox: rigor-<runtime.backend>-<pid>-XXXXXX.
   */
  constructor(
    spec: SandboxSpec,
    isolation: RuncIsolation,
    private readonly config: (sandbox: RuncSandbox) => Promise<OciConfig>,
    protected readonly runtime: OciRuntime = RUNC_RUNTIME,
  ) {
    const resources = newResources();
    const dir = makeSandboxTempDir(resources, runtime.backend);
    super(runtime.backend, spec, { id: basename(dir), resources });
    this.limits = isolation.limits;
    this.seccompProfile = isolation.seccompProfile;
    this.paths = { dir, bundle: join(dir, 'bundle'), state: join(dir, 'state') };
    this.cgroups = cgroupDirsFor(this.id);
    // runs after the process groups were SIGKILLed and before the temp dir goes
    this.resources.lastResort.push(() => {
      runcDeleteSync(this.paths.state, this.id, this.runtime);
      removeCgroupDirs(this.cgroups);
      this.#hostIds?.release();
    });
    trackSandbox(this);
    if (runtime.backend === 'runc') this.fork = (dir) => this.#fork(dir);
  }

  /**
   * The host uids (= gids) the container's user namespace maps: root inside
   * (the agent) → `agent`, INSIDE_COMMAND_ID (its commands) → `command`.
   * Held from the bundle's writing until the container is gone; undefined
   * before. Still readable after destroy (what the container ran as), when
   * the pair may already serve another sandbox.
   */
  get hostIds(): { agent: number; command: number } | undefined {
    return this.#hostIds && { agent: this.#hostIds.agent, command: this.#hostIds.command };
  }

  /** What confines the commands, as artifacts record it; undefined until the host ids are held. */
  get isolation(): IsolationFacts | undefined {
    const ids = this.hostIds;
    if (!ids) return undefined;
    const { pids, memoryMiB, workspaceMiB } = this.limits;
    return { seccomp: this.seccompProfile, commandUid: INSIDE_COMMAND_ID, commandHostUid: ids.command, limits: { pids, memoryMiB, workspaceMiB } };
  }

  /**
   * runc only (runsc keeps its tmpfs inside the Sentry, out of the host's reach): the workspace copied into a
   * fork image (runc/fork.ts); RuncBackend.fromFork starts children from it.
   */
  readonly fork?: (dir: string) => Promise<ForkInfo>;

  async #fork(dir: string): Promise<ForkInfo> {
    this.agent(); // a destroyed sandbox is refused here, before anything is made
    const ids = this.#hostIds!;
    return writeForkImage(
      {
        id: this.id,
        spec: this.spec,
        workspacePath: this.spec.workspacePath ?? '/workspace',
        initPid: () => initPidFrom(this.paths.state, this.id),
        owners: { agent: ids.agent, command: ids.command },
        paused: this.#paused,
        pause: () => this.pause(),
        resume: () => this.resume(),
      },
      dir,
    );
  }

  /** The container's pid 1 (the agent) on the host, from runc's state. */
  initPid(): number {
    return initPidFrom(this.paths.state, this.id);
  }

  /** Take a pair of host ids, write the bundle and say how to run it, in the foreground, under a parent-death SIGKILL. */
  protected async plan(): Promise<ChildLaunch> {
    this.#hostIds = acquireHostIds();
    await mkdir(this.paths.bundle);
    await writeFile(join(this.paths.bundle, 'config.json'), JSON.stringify(await this.config(this)));
    const verb = this.restoreImage === undefined ? ['run'] : ['restore', '--image-path', this.restoreImage];
    const run = runtimeArgs(this.runtime, this.paths.state, [...verb, '--bundle', this.paths.bundle, this.id]);
    return { command: whichOnce('setpriv') ?? 'setpriv', args: ['--pdeathsig', 'KILL', '--', this.runtime.command, ...run] };
  }

  /** Called with the agent's channel (or stdin) already ended. */
  protected async terminate(): Promise<void> {
    // no container yet: runc run is still making it, and its death takes runc init down with it
    if (!this.#hasState()) return this.killGroups();
    // A frozen container holds a SIGKILL pending until thawed; delete --force freezes, kills and thaws.
    if (this.#paused) {
      await runc(this.paths.state, ['delete', '--force', this.id], this.runtime);
      return;
    }
    // A running agent exits at the end of its channel and runc run deletes the container: a `runc kill` then
    // finds nothing (it exits 1) and costs a runc process on every destroy. Kill only a container that stays.
    let grace: NodeJS.Timeout | undefined;
    const exitedInTime = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), AGENT_EXIT_GRACE_MS))),
    ]);
    clearTimeout(grace);
    if (!exitedInTime && this.#hasState()) await runc(this.paths.state, ['kill', this.id, 'KILL'], this.runtime);
  }

  /** Whether pause() froze the container. */
  protected get containerPaused(): boolean {
    return this.#paused;
  }

  /** runc: refused with runcSnapshotSupport()'s reason (criu check's output here); the container runs on untouched. Other runtimes override it. */
  async snapshot(dir: string): Promise<SnapshotInfo> {
    this.agent();
    const support = await runcSnapshotSupport();
    throw new Error(`${this.id}: snapshot to ${dir} refused, nothing was written: ${support.ok ? 'not implemented' : support.reason}`);
  }

  /** The freezer hierarchy's directory (v1), else the v2 one, which runc reads for the paused state. */
  #freezer(): string {
    const dir = dirOf(this.cgroups, 'freezer') ?? dirOf(this.cgroups, '');
    if (!dir) throw new Error(`${this.id}: no freezer cgroup to pause the container with`);
    return dir;
  }

  /** Freeze every process of the container (its freezer cgroup, as `runc pause` does); the agent answers nothing until resume(). */
  protected override async pauseProcesses(): Promise<void> {
    if (this.#paused) return;
    // runc: its freezer cgroup written directly, as `runc pause` does (one process less); another runtime (runsc) pauses its own way
    if (this.runtime.backend === 'runc') await freezeCgroup(this.#freezer());
    else await runcOrThrow(this.paths.state, ['pause', this.id], this.runtime);
    this.#paused = true;
  }

  protected override async resumeProcesses(): Promise<void> {
    if (!this.#paused) return;
    if (this.runtime.backend === 'runc') thawCgroup(this.#freezer());
    else await runcOrThrow(this.paths.state, ['resume', this.id], this.runtime);
    this.#paused = false;
  }

  /** PSS of `runc run` (a host process kept for the sandbox's life) and of every pid in the container's pids cgroup; OOM kills and refused forks. */
  override async stats(): Promise<SandboxStats> {
    const pidsDir = dirOf(this.cgroups, 'pids');
    const container = pidsDir ? cgroupProcs(pidsDir) : [];
    const runcPid = this.launcherPid();
    const pids = runcPid === undefined ? container : [runcPid, ...container];
    const reading = memoryOf(pids);
    return {
      memory: { ...reading, method: `${reading.method}, over ${basename(this.runtime.command)} run and the container's pids cgroup` },
      processes: pids.length,
      limits: limitEvents(this.cgroups),
    };
  }

  /** ChildSandbox's reap, then what runc itself may have left: state and cgroups live on past `runc run`. */
  protected override async reap(): Promise<void> {
    await super.reap();
    // a runc run that exited normally deleted its container; one killed half-way left state and cgroups
    if (this.#hasState()) await runc(this.paths.state, ['delete', '--force', this.id], this.runtime);
    await this.#removeCgroups();
    // Nothing of the container is left (its cgroups are empty and gone): its uids may serve another sandbox.
    // A reap that failed keeps them until the last resort, so no survivor shares a uid with a new sandbox.
    this.#hostIds?.release();
  }

  #hasState(): boolean {
    return existsSync(join(this.paths.state, this.id));
  }

  /** rmdir the container's cgroups, SIGKILLing (and thawing) anything still in them: a runc init stage of a killed runc. */
  async #removeCgroups(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const left = removeCgroupDirs(this.cgroups);
      if (left.length === 0) return;
      if (attempt === 20) throw new Error(`${this.id}: cgroup directories still busy: ${left.join(', ')}`);
      for (const dir of left) for (const pid of cgroupProcs(dir)) signalQuietly(pid, 'SIGKILL');
      for (const dir of left) thawCgroup(dir);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
