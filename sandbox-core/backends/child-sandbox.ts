/**
 * A sandbox whose agent talks over the stdin/stdout of its launcher (the
 * agent itself, bwrap holding it, `runc run`, an engine CLI). Shared by the
 * process, bwrap, runc and engine backends: launch → HELLO → first PONG with
 * phases on the host clock, pause by SIGSTOP, memory by PSS, and a reap that
 * ends the launcher and sweeps its group. What differs per backend is the
 * launch, how everything is killed, and what is left to release once the
 * launcher is gone (override reap(): it runs before the temp dirs are removed).
 */
import type { ChildProcess } from 'node:child_process';
import { AgentClient } from '../agent/client.ts';
import { killSync, trackSandbox } from '../cleanup.ts';
import { AgentSandbox } from './agent-sandbox.ts';
import { continueProcesses, stopProcesses } from './freeze.ts';
import { memoryOf } from './memory.ts';
import { sandboxProcesses } from '../../base/proc-table.ts';
import type { SandboxStats } from './types.ts';

/** create() gives up when the agent has not answered by then, unless the spec says otherwise. */
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How long destroy() waits for the launcher to exit before SIGKILLing everything of the sandbox. */
const EXIT_GRACE_MS = 1000;

export interface ChildLaunch {
  command: string;
  args: string[];
  /** Default: rigor's own environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Pipes opened beyond stdio, as fds 3, 4, ... of the child. */
  extraPipes?: number;
  /** Host uid and gid the launcher runs as; default rigor's own. */
  uid?: number;
  gid?: number;
}

export abstract class ChildSandbox extends AgentSandbox {
  /** Pids stopped by pause(), continued by resume(); null when running. */
  protected paused: number[] | null = null;
  /** How long reap() waits for the launcher to exit after terminate() before forceKill(). */
  protected readonly exitGraceMs: number = EXIT_GRACE_MS;

  /** Make temp dirs (recorded in `resources`) and say what to start. */
  protected abstract plan(): Promise<ChildLaunch>;
  /** Called right after spawn, awaited before the agent's HELLO is waited for; bwrap maps its user namespace here. */
  protected async launched(_child: ChildProcess): Promise<void> {}
  /**
   * The first step of reaping a running launcher, after the channel was
   * ended: signal what must die now. The launcher's exit is awaited
   * afterwards; if it has not exited within exitGraceMs, forceKill() follows.
   */
  protected abstract terminate(): void | Promise<void>;

  /**
   * Launch, wait for HELLO and the first PONG; resolves with the ready
   * sandbox. On any failure everything is reclaimed and the error names the
   * cause. Phases count from `t0` (default: now).
   */
  async start(signal?: AbortSignal, t0 = performance.now()): Promise<this> {
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
      // A timeout or abort before the launch found no child to kill: plan nothing, spawn nothing.
      if (failure !== undefined) throw failure;
      const launch = await this.plan();
      if (failure !== undefined) throw failure;
      const child = await this.launch(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        stdio: ['pipe', 'pipe', 'pipe', ...Array<'pipe'>(launch.extraPipes ?? 0).fill('pipe')],
        keep: ['stderr'],
        tree: true,
        uid: launch.uid,
        gid: launch.gid,
      });
      this.phases.launched = since();
      // A launcher gone before the agent answered can leave a child holding the channel open (bwrap's, still
      // waiting for its id maps): fail now and kill what is left rather than wait out the timeout.
      void this.exited.then((how) => {
        if (this.phases.ready === undefined) fail(new Error(`${this.id}: the launcher ${how} before the agent answered`));
      });
      await this.launched(child);
      if (failure !== undefined) throw failure;
      this.client = await this.connectAgent(child, timeoutMs);
      this.phases.connected = since();
      this.bootStages = this.client.hello.stages;
      await this.client.ping();
      this.phases.ready = since();
      return this;
    } catch (error) {
      const teardown = await this.destroyAfterFailure();
      if (failure) {
        if (teardown) failure.message += teardown;
        throw failure;
      }
      const launcher = this.child?.pid === undefined ? '' : `; launcher ${await this.exited}`;
      const stderr = this.output.trim();
      throw new Error(`${this.id}: ${(error as Error).message}${launcher}${stderr ? `: ${stderr}` : ''}${teardown}`, { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The agent's channel over the launcher's stdio, once its HELLO arrived; a restored sandbox's agent said HELLO before the save (gvisor adopts it). */
  protected connectAgent(child: ChildProcess, timeoutMs: number): Promise<AgentClient> {
    return AgentClient.connect(child.stdout!, child.stdin!, { helloTimeoutMs: timeoutMs });
  }

  /** SIGSTOP every process of the sandbox (see freeze.ts for why signals and not the freezer). */
  protected async pauseProcesses(): Promise<void> {
    if (this.paused || !this.child?.pid) return;
    this.paused = await stopProcesses(this.child.pid, this.resources.processGroups);
  }

  protected async resumeProcesses(): Promise<void> {
    if (!this.paused) return;
    continueProcesses(this.paused);
    this.paused = null;
  }

  /** Host memory of the launcher, the agent and everything they started: summed PSS. */
  async stats(): Promise<SandboxStats> {
    const pids = this.child?.pid ? sandboxProcesses(this.child.pid, this.resources.processGroups) : [];
    return { memory: memoryOf(pids), processes: pids.length };
  }

  protected async reap(): Promise<void> {
    // No channel yet: ending the agent's stdin still tells it to exit.
    if (!this.client) this.child?.stdin?.end();
    if (this.launcherPid() !== undefined) {
      await this.terminate();
      const force = setTimeout(() => this.forceKill(), this.exitGraceMs);
      await this.exited;
      clearTimeout(force);
    }
    // The launcher is reaped; sweep its group in case anything stayed in it.
    this.killGroups();
    this.paused = null;
  }

  /** SIGKILL every process of the sandbox found in /proc (the tree and the groups). */
  protected forceKill(): void {
    killSync(this.resources);
  }
}
