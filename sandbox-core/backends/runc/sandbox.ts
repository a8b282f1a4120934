/**
 * One runc container whose process is the agent, talking over the stdio of
 * `runc run` (runc passes its fds straight to the container when terminal
 * is false). Pause and resume use the freezer cgroup (`runc pause`); memory
 * is the PSS of `runc run` plus every process in the container's pids cgroup;
 * destroy is `runc kill KILL` + `runc delete --force`, then a sweep of what a
 * runc killed half-way can leave: cgroup directories and the state root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AgentClient } from '../../agent/client.ts';
import { makeSandboxTempDir, newResources, trackSandbox, untrackSandbox, type SandboxResources, type TrackedSandbox } from '../../cleanup.ts';
import { memoryOf } from '../memory.ts';
import type { BootStage, ExecRequest, ExecResult, Phases, Sandbox, SandboxSpec, SandboxStats } from '../types.ts';
import { cgroupDirsFor, cgroupProcs, dirOf, removeCgroupDirs, thawCgroup, type CgroupDir } from './cgroups.ts';
import type { OciConfig } from './oci-config.ts';
import { RUNC, runc, runcDeleteSync, runcOrThrow } from './runc-cli.ts';

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How long destroy() waits for `runc run` to exit after the kill before SIGKILLing it. */
const EXIT_GRACE_MS = 2000;
const STDERR_TAIL_BYTES = 4096;

/** Host paths of one sandbox, all under one temp dir whose name is also the container id and cgroup name. */
export interface RuncPaths {
  dir: string;
  bundle: string;
  state: string;
  workspace: string;
}

export class RuncSandbox implements Sandbox, TrackedSandbox {
  readonly backend = 'runc';
  readonly id: string;
  readonly phases: Phases = {};
  readonly resources: SandboxResources = newResources();
  bootStages: BootStage[] = [];
  readonly paths: RuncPaths;
  /** The container's cgroup directories (one per hierarchy), known before runc makes them. */
  readonly cgroups: CgroupDir[];

  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #client: AgentClient | undefined;
  #paused = false;
  #stderrTail = '';
  #destroyed: Promise<void> | undefined;

  constructor(private readonly spec: SandboxSpec) {
    const dir = makeSandboxTempDir(this.resources, 'runc');
    this.id = basename(dir);
    this.paths = { dir, bundle: join(dir, 'bundle'), state: join(dir, 'state'), workspace: join(dir, 'workspace') };
    this.cgroups = cgroupDirsFor(this.id);
    // runs after the process groups were SIGKILLed and before the temp dir goes
    this.resources.lastResort.push(() => {
      runcDeleteSync(this.paths.state, this.id);
      removeCgroupDirs(this.cgroups);
    });
    trackSandbox(this);
  }

  /** Write the bundle, start `runc run`, wait for HELLO and the first PONG; on failure everything is reclaimed. */
  async start(config: (paths: RuncPaths) => Promise<OciConfig>, t0: number, signal?: AbortSignal): Promise<void> {
    const since = (): number => performance.now() - t0;
    const timeoutMs = this.spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    try {
      signal?.throwIfAborted();
      await Promise.all([mkdir(this.paths.bundle), mkdir(this.paths.workspace)]);
      await writeFile(join(this.paths.bundle, 'config.json'), JSON.stringify(await config(this.paths)));
      signal?.throwIfAborted();
      const child = spawn(
        'setpriv',
        ['--pdeathsig', 'KILL', '--', RUNC, '--root', this.paths.state, 'run', '--bundle', this.paths.bundle, this.id],
        { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      this.#child = child;
      this.#exited = new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.once('error', () => resolve());
      });
      if (child.pid === undefined) {
        await this.#exited;
        throw new Error('setpriv could not be started');
      }
      this.resources.processGroups.add(child.pid);
      this.phases.launched = since();
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      this.#client = await AgentClient.connect(child.stdout!, child.stdin!, { helloTimeoutMs: timeoutMs, signal });
      this.phases.connected = since();
      this.bootStages = this.#client.hello.stages;
      await this.#client.ping();
      this.phases.ready = since();
    } catch (error) {
      // runc's own complaint (bad config, cgroup refused) is on the shared stderr once it has exited
      const ended = await Promise.race([this.#exited.then(() => true), delay(signal?.aborted ? 0 : 200).then(() => false)]);
      await this.destroy();
      const said = ended && this.#stderrTail.trim() ? `; runc said: ${this.#stderrTail.trim()}` : '';
      throw new Error(`runc sandbox ${this.id}: ${(error as Error).message}${said}`, { cause: error });
    }
  }

  #agent(): AgentClient {
    if (!this.#client || this.#destroyed) throw new Error(`runc sandbox ${this.id} is destroyed`);
    return this.#client;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const env = this.spec.env || request.env ? { ...this.spec.env, ...request.env } : undefined;
    return this.#agent().exec({ ...request, env });
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    return this.#agent().writeFile(path, data, mode);
  }

  async readFile(path: string): Promise<Buffer> {
    return this.#agent().readFile(path);
  }

  async ping(): Promise<number> {
    return this.#agent().ping();
  }

  /** Freeze every process of the container (freezer cgroup); the agent answers nothing until resume(). */
  async pause(): Promise<void> {
    if (this.#paused) return;
    await runcOrThrow(this.paths.state, ['pause', this.id]);
    this.#paused = true;
  }

  async resume(): Promise<void> {
    if (!this.#paused) return;
    await runcOrThrow(this.paths.state, ['resume', this.id]);
    this.#paused = false;
  }

  /** PSS of `runc run` (a host process kept for the sandbox's life) and of every pid in the container's pids cgroup. */
  async stats(): Promise<SandboxStats> {
    const pidsDir = dirOf(this.cgroups, 'pids');
    const container = pidsDir ? cgroupProcs(pidsDir) : [];
    const runcPid = this.#runcPid();
    const pids = runcPid === undefined ? container : [runcPid, ...container];
    const reading = memoryOf(pids);
    return { memory: { ...reading, method: `${reading.method}, over runc run and the container's pids cgroup` }, processes: pids.length };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  /** The `runc run` pid while it runs (setpriv exec'd into it). */
  #runcPid(): number | undefined {
    const child = this.#child;
    return child?.pid !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async #teardown(): Promise<void> {
    this.#client?.close();
    const state = this.paths.state;
    const hasState = (): boolean => existsSync(join(state, this.id));
    const runcPid = this.#runcPid();
    // A frozen container holds a SIGKILL pending until thawed; delete --force freezes, kills and thaws.
    if (hasState()) await runc(state, this.#paused ? ['delete', '--force', this.id] : ['kill', this.id, 'KILL']);
    // no container yet: runc run is still making it, and its death takes runc init down with it
    else if (runcPid !== undefined) signalGroup(runcPid, 'SIGKILL');
    if (runcPid !== undefined) {
      // runc run sees its container exit, deletes it and exits; if it does not, the group goes
      const force = setTimeout(() => signalGroup(runcPid, 'SIGKILL'), EXIT_GRACE_MS);
      await this.#exited;
      clearTimeout(force);
    }
    for (const pgid of this.resources.processGroups) signalGroup(pgid, 'SIGKILL');
    // a runc run that exited normally deleted its container; one killed half-way left state and cgroups
    if (hasState()) await runc(state, ['delete', '--force', this.id]);
    await this.#removeCgroups();
    await Promise.all([...this.resources.tempDirs].map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 2 })));
    untrackSandbox(this);
  }

  /** rmdir the container's cgroups, SIGKILLing (and thawing) anything still in them: a runc init stage of a killed runc. */
  async #removeCgroups(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const left = removeCgroupDirs(this.cgroups);
      if (left.length === 0) return;
      if (attempt === 20) throw new Error(`runc sandbox ${this.id}: cgroup directories still busy: ${left.join(', ')}`);
      for (const dir of left) for (const pid of cgroupProcs(dir)) signalQuietly(pid, 'SIGKILL');
      for (const dir of left) thawCgroup(dir);
      await delay(10);
    }
  }
}

function signalGroup(pgid: number, name: NodeJS.Signals): void {
  signalQuietly(-pgid, name);
}

function signalQuietly(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
