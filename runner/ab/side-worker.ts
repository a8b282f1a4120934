/**
 * The driver's handle on one side's worker (worker.ts): started with the
 * side's tree as working directory and tsx's loader, asked to plan and to take
 * samples, closed — or killed, with its process group, if it does not close.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkloadResult } from '../contract/workload.ts';
import type { PlannedSideCell, Reply, Request } from './protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** After `close`, how long the worker has to tear its sandboxes down before it is killed. */
const CLOSE_GRACE_MS = 30_000;
const TAIL_BYTES = 4000;

export type SideName = 'base' | 'head';

/** rigor failed on a side (not the measured thing): the A/B run stops, naming the side. */
export class SideError extends Error {
  override name = 'SideError';
  constructor(
    readonly side: SideName,
    message: string,
  ) {
    super(`${side}: ${message}`);
  }
}

export type TakeOutcome = { ok: true; result: WorkloadResult } | { ok: false; message: string; partial?: WorkloadResult };

export interface SidePlan {
  rig: { name: string; path: string; sha256: string; definition: unknown; effective: unknown };
  cells: PlannedSideCell[];
  tools: string[];
  /** A cell of this side may start a guest under KVM: the run probes KVM and warns about it. */
  usesKvm: boolean;
}

export class SideWorker {
  readonly #child: ChildProcess;
  #stderr = '';
  #nextId = 1;
  readonly #waiting = new Map<number | 'plan' | 'close', { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  #exited: Promise<void>;
  #gone = false;
  /** How the side's run-level cleanup failed, once the worker closed; null when it ran or there was none. */
  cleanupFailure: string | null = null;

  constructor(
    readonly side: SideName,
    readonly tree: string,
  ) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
    this.#child = fork(WORKER, [], {
      cwd: tree,
      execArgv: ['--import', tsx],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: { ...process.env, RIGOR_AB_SIDE: side },
    });
    const keep = (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#child.on('message', (reply: Reply) => this.#onReply(reply));
    this.#exited = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        this.#gone = true;
        const why = new SideError(side, `worker exited (${signal ?? `code ${code}`}) ${this.#stderr.trim() ? `— it said:\n${this.#stderr.trim()}` : ''}`.trim());
        for (const waiter of this.#waiting.values()) waiter.reject(why);
        this.#waiting.clear();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #onReply(reply: Reply): void {
    const key = reply.type === 'planned' ? 'plan' : reply.type === 'closed' ? 'close' : reply.type === 'error' ? (reply.id ?? 'plan') : reply.id;
    const waiter = this.#waiting.get(key);
    if (!waiter) return;
    this.#waiting.delete(key);
    if (reply.type === 'error') waiter.reject(new SideError(this.side, reply.message));
    else waiter.resolve(reply);
  }

  #ask(key: number | 'plan' | 'close', request: Request): Promise<Reply> {
    if (this.#gone) return Promise.reject(new SideError(this.side, 'worker is not running'));
    return new Promise((resolve, reject) => {
      this.#waiting.set(key, { resolve, reject });
      this.#child.send(request);
    });
  }

  async plan(rig: string, sets: string[], iterations?: number): Promise<SidePlan> {
    const reply = await this.#ask('plan', { type: 'plan', rig, sets, ...(iterations !== undefined ? { iterations } : {}) });
    if (reply.type !== 'planned') throw new SideError(this.side, `unexpected reply ${reply.type} to plan`);
    return { rig: reply.rig, cells: reply.cells, tools: reply.tools, usesKvm: reply.usesKvm };
  }

  async take(cell: string, count: number, warmup: number): Promise<TakeOutcome> {
    const id = this.#nextId++;
    const reply = await this.#ask(id, { type: 'take', id, cell, count, warmup });
    if (reply.type === 'taken') return { ok: true, result: reply.result };
    if (reply.type === 'take-failed') return { ok: false, message: reply.message, ...(reply.partial ? { partial: reply.partial } : {}) };
    throw new SideError(this.side, `unexpected reply ${reply.type} to take`);
  }

  /** Stop the take in flight; it still answers, with what it measured. */
  abort(): void {
    if (!this.#gone) this.#child.send({ type: 'abort' } satisfies Request);
  }

  /** Ask the worker to tear down and exit; kill it if it does not in time. Returns what it could not tear down. */
  async close(): Promise<string[]> {
    if (this.#gone) return [];
    let leftovers: string[] = [];
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), CLOSE_GRACE_MS);
    try {
      const reply = await this.#ask('close', { type: 'close' });
      if (reply.type === 'closed') {
        leftovers = reply.leftovers;
        this.cleanupFailure = reply.cleanup_failure ?? null;
      }
    } catch {
      // It exited on its own; nothing more to ask.
    }
    await this.#exited;
    clearTimeout(timer);
    return leftovers;
  }

  /** At once, for a second Ctrl-C or a driver failure. */
  kill(): void {
    if (!this.#gone) this.#child.kill('SIGKILL');
  }

  exited(): Promise<void> {
    return this.#exited;
  }
}
