/**
 * What every sandbox shares whose agent answers over one AgentClient and
 * whose host side is one launcher process (bwrap, the agent itself, `runc
 * run`, an engine CLI, qemu, firecracker): the identity, phases and resources
 * the cleanup registry tracks; the launcher started in its own process group
 * with the tail of its output kept; the agent-facing calls; and destroy(),
 * which runs once: the channel is ended, the backend reaps what it runs, then
 * the temp dirs go and the sandbox is untracked. A channel the client marks
 * broken (its agent missed a deadline or sent unreadable data) destroys the
 * sandbox at once; deadlines do not run while it is paused. How the channel
 * is made, paused and measured, and how its processes die, is each backend's.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { AgentChannelBrokenError, AgentClient } from '../agent/client.ts';
import { newResources, untrackSandbox, type SandboxResources, type TrackedSandbox } from '../cleanup.ts';
import { signalQuietly } from '../../base/signal.ts';
import type { BootStage, ExecRequest, ExecResult, Phases, Sandbox, SandboxSpec, SandboxStats } from './types.ts';

/** The environment variable naming the sandbox in every process the backend starts (found again by /proc scans). */
export const SANDBOX_ID_ENV = 'RIGOR_SANDBOX_ID';
/** Bytes of the launcher's output kept to explain a failed start. */
const OUTPUT_TAIL_BYTES = 4096;

export interface LaunchOptions {
  /** Default: rigor's own environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio: StdioOptions;
  /** The streams whose last bytes output() returns. */
  keep: Array<'stdout' | 'stderr'>;
  /** Whether the launcher's descendants are the sandbox's even when they leave its group; false for one that starts nothing. */
  tree: boolean;
  /** Host uid and gid the launcher runs as (no supplementary groups); default rigor's own. */
  uid?: number;
  gid?: number;
}

export abstract class AgentSandbox implements Sandbox, TrackedSandbox {
  readonly id: string;
  readonly phases: Phases = {};
  readonly resources: SandboxResources;
  bootStages: BootStage[] = [];

  protected child: ChildProcess | undefined;
  /** Settles when the launcher was reaped: how it ended. */
  protected exited: Promise<string> = Promise.resolve('never started');
  #output = '';
  #destroyed: Promise<void> | undefined;
  #client: AgentClient | undefined;
  /** Set when a broken channel destroyed the sandbox: later calls say so. */
  #brokenBy: AgentChannelBrokenError | undefined;

  /** `id` defaults to `<backend>-<pid>-<random>`; a backend whose names must match its temp dir passes its own, with the resources that hold that dir. */
  protected constructor(
    readonly backend: string,
    protected readonly spec: SandboxSpec,
    own?: { id: string; resources: SandboxResources },
  ) {
    this.id = own?.id ?? `${backend}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.resources = own?.resources ?? newResources();
  }

  /** The agent's channel once connected; setting it also watches it for a break. */
  protected get client(): AgentClient | undefined {
    return this.#client;
  }

  protected set client(client: AgentClient | undefined) {
    this.#client = client;
    client?.onBroken((error) => {
      if (this.#client !== client || this.#destroyed) return;
      this.#brokenBy = error;
      // The caller of the request that failed sees the client's error; destroy()'s own failure is for whoever awaits destroy().
      this.destroy().catch(() => undefined);
    });
  }

  /**
   * Stop every process of the sandbox and release what the backend made
   * besides its temp dirs; called once, by destroy(), after the channel was
   * closed. Must not leave a process that could still write in a temp dir.
   */
  protected abstract reap(): Promise<void>;

  /** Stop / continue every process of the sandbox: the backend's own way (signals, freezer, QMP, API). */
  protected abstract pauseProcesses(): Promise<void>;
  protected abstract resumeProcesses(): Promise<void>;

  /** A paused sandbox holds its requests: the deadlines stop with it, so it is not taken for a broken one. */
  async pause(): Promise<void> {
    this.#client?.suspendDeadlines();
    try {
      await this.pauseProcesses();
    } catch (error) {
      this.#client?.resumeDeadlines();
      throw error;
    }
  }

  async resume(): Promise<void> {
    try {
      await this.resumeProcesses();
    } finally {
      this.#client?.resumeDeadlines();
    }
  }
  abstract stats(): Promise<SandboxStats>;

  /** Start the launcher detached (its own process group, so one kill(-pgid) reaches all of it) and record it. */
  protected async launch(command: string, args: string[], options: LaunchOptions): Promise<ChildProcess> {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: options.stdio, uid: options.uid, gid: options.gid });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exited with code ${code}`));
      child.once('error', (error) => child.pid === undefined && resolve(`could not start: ${error.message}`));
    });
    for (const name of options.keep) {
      child[name]!.setEncoding('utf8').on('data', (chunk: string) => {
        this.#output = (this.#output + chunk).slice(-OUTPUT_TAIL_BYTES);
      });
    }
    if (child.pid === undefined) throw new Error(`${command} ${await this.exited}`);
    this.resources.processGroups.add(child.pid);
    if (options.tree) this.resources.processTrees.add(child.pid);
    return child;
  }

  /** The last bytes the launcher printed on the kept streams. */
  protected get output(): string {
    return this.#output;
  }

  /** The launcher's pid while it runs. */
  protected launcherPid(): number | undefined {
    const child = this.child;
    return child?.pid !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** SIGKILL every recorded process group. */
  protected killGroups(): void {
    for (const pgid of this.resources.processGroups) signalQuietly(-pgid, 'SIGKILL');
  }

  /**
   * Teardown after a failed start: the start's cause is what the caller must
   * see, so a teardown error is only appended ("; teardown also failed: ...").
   */
  protected async destroyAfterFailure(): Promise<string> {
    try {
      await this.destroy();
      return '';
    } catch (error) {
      return `; teardown also failed: ${(error as Error).message}`;
    }
  }

  /** Whether destroy() was called (it may still be running). */
  protected get destroying(): boolean {
    return this.#destroyed !== undefined;
  }

  /** The channel, or an error saying why there is none. */
  protected agent(): AgentClient {
    if (this.#brokenBy) throw new SandboxBrokenError(this.id, this.#brokenBy);
    if (!this.#client || this.#destroyed) throw new Error(`${this.id}: sandbox is destroyed`);
    return this.#client;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const policy = this.spec.execPolicy;
    if (policy) {
      const verdict = policy(request.argv, request.cwd ?? this.spec.workspacePath ?? '/workspace');
      if (verdict.decision === 'block') throw new ExecBlockedError(request.argv, verdict.ruleId);
    }
    const env = this.spec.env || request.env ? { ...this.spec.env, ...request.env } : undefined;
    return this.agent().exec({ ...request, env });
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    return this.agent().writeFile(path, data, mode);
  }

  async readFile(path: string): Promise<Buffer> {
    return this.agent().readFile(path);
  }

  async ping(): Promise<number> {
    return this.agent().ping();
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  async #teardown(): Promise<void> {
    // Ending the channel lets a running agent kill its commands and exit on its own.
    this.client?.close();
    try {
      await this.reap();
    } finally {
      // A reap that failed (busy cgroup, engine error) still must not leave the temp dirs or a tracked sandbox.
      await Promise.all([...this.resources.tempDirs].map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 2 })));
      untrackSandbox(this);
    }
  }
}

/** A call on a sandbox that was destroyed because its agent's channel broke (`cause`: the client's AgentChannelBrokenError). */
export class SandboxBrokenError extends Error {
  override name = 'SandboxBrokenError';
  constructor(id: string, cause: AgentChannelBrokenError) {
    super(`${id}: sandbox was destroyed because its agent channel broke: ${cause.reason}`, { cause });
  }
}

/** An exec the sandbox's exec policy refused: nothing was started. */
export class ExecBlockedError extends Error {
  override name = 'ExecBlockedError';
  constructor(
    readonly argv: string[],
    readonly ruleId: string | null,
  ) {
    super(`exec of ${JSON.stringify(argv.join(' '))} blocked by ${ruleId ? `rule ${ruleId}` : 'the default decision'}`);
  }
}
