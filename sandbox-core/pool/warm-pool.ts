/**
 * A warm pool: sandboxes created ahead of need and paused (SIGSTOP or the
 * cgroup freezer, whatever the backend's pause() does). acquire() takes one,
 * resumes it and waits for its agent to answer. Sandboxes are never reused:
 * release() destroys.
 *
 * Refill runs in the background, started by release(), by warm(), and by an
 * acquire() that empties the pool — not by every acquire(): starting a
 * sandbox blocks Node's event loop for a few ms (spawn is synchronous), which
 * would land on the acquirer's first exec (measured: first output 6.7 ms with
 * refill-on-acquire vs 2.3 ms without, bwrap, this 2-core host).
 */
import type { Backend, Sandbox, SandboxSpec } from '../backends/types.ts';

export interface WarmPoolOptions {
  /** Paused sandboxes kept ready. */
  size: number;
  spec?: SandboxSpec;
  /** Sandboxes created at once while filling (default 2: this kind of host has few cores). */
  fillConcurrency?: number;
}

/** Host-clock milestones of one acquire(), in ms since it was called. */
export interface AcquireTimes {
  /** A paused sandbox was taken (0 when one was idle, more when the pool was empty). */
  taken: number;
  resumed: number;
  /** The agent answered a ping after resume. */
  ready: number;
}

export interface Acquired {
  sandbox: Sandbox;
  times: AcquireTimes;
}

export class WarmPool {
  readonly #backend: Backend;
  readonly #options: Required<Omit<WarmPoolOptions, 'spec'>> & { spec: SandboxSpec };
  readonly #idle: Sandbox[] = [];
  readonly #waiters: { resolve: (sandbox: Sandbox) => void; reject: (error: Error) => void }[] = [];
  #creating = 0;
  #closed = false;
  #fillError: Error | undefined;
  /** Counters for facts: how often acquire() found the pool empty. */
  readonly counts = { created: 0, acquired: 0, waited: 0 };

  constructor(backend: Backend, options: WarmPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`pool size must be a whole number >= 1, got ${options.size}`);
    this.#backend = backend;
    this.#options = { fillConcurrency: 2, spec: {}, ...options };
  }

  /** Fill the pool and wait until `size` paused sandboxes are idle. */
  fill(): Promise<void> {
    return this.warm(this.#options.size);
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** Ids of the paused sandboxes waiting to be acquired (for inspection: tests, facts). */
  idleIds(): string[] {
    return this.#idle.map((sandbox) => sandbox.id);
  }

  async acquire(): Promise<Acquired> {
    if (this.#closed) throw new Error('acquire() on a closed pool');
    const start = performance.now();
    let sandbox = this.#idle.shift();
    if (!sandbox) {
      this.counts.waited++;
      if (this.#fillError) throw this.#fillError;
      sandbox = await new Promise<Sandbox>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    }
    this.counts.acquired++;
    const taken = performance.now() - start;
    try {
      await sandbox.resume();
      const resumed = performance.now() - start;
      await sandbox.ping();
      return { sandbox, times: { taken, resumed, ready: performance.now() - start } };
    } catch (error) {
      // Neither handed out nor kept: a sandbox that would not wake is destroyed here.
      await sandbox.destroy().catch(() => {});
      throw error;
    } finally {
      // Only an empty pool refills from here; otherwise release() does (see the class comment).
      if (this.#idle.length === 0) this.#refill();
    }
  }

  /** Resolves when at least `count` paused sandboxes are idle (or throws the fill error). */
  async warm(count = 1): Promise<void> {
    this.#refill();
    while (this.#idle.length < Math.min(count, this.#options.size)) {
      if (this.#fillError) throw this.#fillError;
      if (this.#closed) throw new Error('pool closed');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Sandboxes are single-use: release destroys, and tops the pool up. */
  async release(sandbox: Sandbox): Promise<void> {
    this.#refill();
    await sandbox.destroy();
  }

  /** Stop refilling and destroy every idle sandbox (and any still being created). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('pool closed'));
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((sandbox) => sandbox.destroy()));
    while (this.#creating > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Keep `size` sandboxes idle or on their way, `fillConcurrency` at a time. */
  #refill(): void {
    const wanted = this.#options.size + this.#waiters.length;
    while (!this.#closed && this.#creating < this.#options.fillConcurrency && this.#idle.length + this.#creating < wanted) {
      this.#creating++;
      void this.#createOne().finally(() => {
        this.#creating--;
        if (!this.#fillError) this.#refill();
      });
    }
  }

  async #createOne(): Promise<void> {
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await this.#backend.create(this.#options.spec);
      await sandbox.pause();
      this.counts.created++;
    } catch (error) {
      this.#fillError = error instanceof Error ? error : new Error(String(error));
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#fillError);
      await sandbox?.destroy();
      return;
    }
    if (this.#closed) {
      await sandbox.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(sandbox);
    else this.#idle.push(sandbox);
  }
}
