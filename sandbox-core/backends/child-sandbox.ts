/**
 * A sandbox whose agent runs behind one host child process (the agent itself,
 * or bwrap holding it) and talks over that child's stdin/stdout. Shared by
 * the process and bwrap backends: launch → HELLO → first PONG with phases on
 * the host clock, exec and files through the agent, pause by SIGSTOP, memory
 * by PSS, and a teardown that reclaims every process and the temp dirs. What
 * differs per backend is the launch and how everything is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { AgentClient } from '../agent/client.ts';
import { killSync, newResources, trackSandbox, untrackSandbox, type SandboxResources, type TrackedSandbox } from '../cleanup.ts';
import { continueProcesses, stopProcesses } from './freeze.ts';
import { memoryOf } from './memory.ts';
import { sandboxProcesses } from './proc-table.ts';
import type { BootStage, ExecRequest, ExecResult, Phases, Sandbox, SandboxSpec, SandboxStats } from './types.ts';

/** create() gives up when the agent has not answered by then, unless the spec says otherwise. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How long destroy() waits for the launcher to exit before SIGKILLing everything of the sandbox. */
const EXIT_GRACE_MS = 1000;
/** Bytes of the launcher's stderr kept to explain a failed start. */
const STDERR_TAIL_BYTES = 4096;

/** The environment variable naming the sandbox in every process the backend starts (found again by /proc scans). */
export const SANDBOX_ID_ENV = 'RIGOR_SANDBOX_ID';

export interface ChildLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Pipes opened beyond stdio, as fds 3, 4, ... of the child. */
  extraPipes?: number;
}

export abstract class ChildSandbox implements Sandbox, TrackedSandbox {
  readonly id: string;
  readonly phases: Phases = {};
  readonly resources: SandboxResources = newResources();
  bootStages: BootStage[] = [];

  protected child: ChildProcess | undefined;
  protected client: AgentClient | undefined;
  /** Settles when the launcher was reaped (its exit code or signal). */
  protected exited: Promise<string> = Promise.resolve('never started');
  /** Pids stopped by pause(), continued by resume(); null when running. */
  protected paused: number[] | null = null;
  #stderrTail = '';
  #destroyed: Promise<void> | undefined;

  protected constructor(
    readonly backend: string,
    protected readonly spec: SandboxSpec,
  ) {
    this.id = `${backend}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /** Make temp dirs (recorded in `resources`) and say what to start. */
  protected abstract plan(): Promise<ChildLaunch>;
  /** Called right after spawn; bwrap reads its info fd here. */
  protected launched(_child: ChildProcess): void {}
  /**
   * The first step of teardown, after the channel was ended: signal what
   * must die now. The launcher's exit is awaited afterwards; if it has not
   * exited within a grace period, forceKill() follows.
   */
  protected abstract terminate(): void;

  /** Launch, wait for HELLO and the first PONG; on any failure everything is reclaimed and the error names the cause. */
  protected async start(signal?: AbortSignal): Promise<void> {
    const t0 = performance.now();
    const since = () => performance.now() - t0;
    trackSandbox(this);
    const timeoutMs = this.spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    let failure: Error | undefined;
    // Killing the launcher ends the channel, which rejects whatever start() awaits.
    const fail = (error: Error) => {
      failure ??= error;
      if (this.child) this.forceKill();
    };
    const timer = setTimeout(() => fail(new Error(`${this.id}: the agent did not answer within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error(`${this.id}: create aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      const launch = await this.plan();
      // A timeout or abort during plan() found no child to kill: stop before spawning one.
      if (failure !== undefined) throw failure;
      const child = spawn(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        detached: true, // its own process group, so one kill(-pgid) reaches all of it
        stdio: ['pipe', 'pipe', 'pipe', ...Array<'pipe'>(launch.extraPipes ?? 0).fill('pipe')],
      });
      this.child = child;
      this.exited = new Promise((resolve) => {
        child.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exited with code ${code}`));
        child.once('error', (error) => child.pid === undefined && resolve(`could not start: ${error.message}`));
      });
      if (child.pid === undefined) throw new Error(`${launch.command} ${await this.exited}`);
      this.resources.processGroups.add(child.pid);
      this.resources.processTrees.add(child.pid);
      this.phases.launched = since();
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      this.launched(child);
      this.client = await AgentClient.connect(child.stdout!, child.stdin!, { helloTimeoutMs: timeoutMs });
      this.phases.connected = since();
      this.bootStages = this.client.hello.stages;
      await this.client.ping();
      this.phases.ready = since();
    } catch (error) {
      await this.destroy();
      if (failure) throw failure;
      const launcher = this.child?.pid === undefined ? '' : `; launcher ${await this.exited}`;
      throw new Error(`${this.id}: ${(error as Error).message}${launcher}${this.#stderrSuffix()}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #stderrSuffix(): string {
    const tail = this.#stderrTail.trim();
    return tail ? `: ${tail}` : '';
  }

  /** The channel, or an error saying why there is none. */
  protected agent(): AgentClient {
    if (!this.client || this.#destroyed) throw new Error(`${this.id}: sandbox is destroyed`);
    return this.client;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
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

  /** SIGSTOP every process of the sandbox (see freeze.ts for why signals and not the freezer). */
  async pause(): Promise<void> {
    if (this.paused || !this.child?.pid) return;
    this.paused = await stopProcesses(this.child.pid, this.resources.processGroups);
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    continueProcesses(this.paused);
    this.paused = null;
  }

  /** Host memory of the launcher, the agent and everything they started: summed PSS. */
  async stats(): Promise<SandboxStats> {
    const pids = this.child?.pid ? sandboxProcesses(this.child.pid, this.resources.processGroups) : [];
    return { memory: memoryOf(pids), processes: pids.length };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  async #teardown(): Promise<void> {
    // Ending the channel lets a running agent kill its commands and exit on its own.
    if (this.client) this.client.close();
    else this.child?.stdin?.end();
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      this.terminate();
      const force = setTimeout(() => this.forceKill(), EXIT_GRACE_MS);
      await this.exited;
      clearTimeout(force);
    }
    // The launcher is reaped; sweep its group in case anything stayed in it.
    for (const pgid of this.resources.processGroups) signalQuietly(-pgid, 'SIGKILL');
    this.paused = null;
    await Promise.all([...this.resources.tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
    untrackSandbox(this);
  }

  /** SIGKILL every process of the sandbox found in /proc (the tree and the groups). */
  protected forceKill(): void {
    killSync(this.resources);
  }
}

/** kill(2) ignoring "no such process". */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
