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
 *
 * A create that fails is reported to whoever waits (and to acquire() and
 * warm() until a create succeeds again) and retried after a backoff that
 * doubles per consecutive failure, so a lasting failure does not spin.
 */
import type { Backend, Sandbox, SandboxSpec } from '../backends/types.ts';

/** Retry delay after the first failed create, doubled per consecutive failure up to the cap. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

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
  /** Creates in flight, each settling when its sandbox is idle, handed out or given up. */
  readonly #creating = new Set<Promise<void>>();
  #closed = false;
  /** The last create's failure, until a create succeeds. */
  #fillError: Error | undefined;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Woken whenever the idle list grows or a create fails (warm() waits on it). */
  #changed: (() => void)[] = [];
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
      await new Promise<void>((resolve) => this.#changed.push(resolve));
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
    clearTimeout(this.#retry);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('pool closed'));
    this.#notify();
    const idle = this.#idle.splice(0);
    await Promise.all([...idle.map((sandbox) => sandbox.destroy()), ...this.#creating]);
  }

  #notify(): void {
    for (const wake of this.#changed.splice(0)) wake();
  }

  /** Keep `size` sandboxes idle or on their way, `fillConcurrency` at a time. */
  #refill(): void {
    // After a failure the retry timer refills; until then nothing new starts.
    if (this.#retry) return;
    const wanted = this.#options.size + this.#waiters.length;
    while (!this.#closed && this.#creating.size < this.#options.fillConcurrency && this.#idle.length + this.#creating.size < wanted) {
      const creating: Promise<void> = this.#createOne().then((ok) => {
        this.#creating.delete(creating);
        if (ok) this.#refill();
        else this.#scheduleRetry();
      });
      this.#creating.add(creating);
    }
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retry) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.#failures - 1));
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#refill();
    }, delay);
    // A retry alone must not keep the process alive.
    this.#retry.unref();
  }

  /** One sandbox created and paused, then handed to a waiter or kept idle; false when it failed. */
  async #createOne(): Promise<boolean> {
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await this.#backend.create(this.#options.spec);
      await sandbox.pause();
      this.counts.created++;
    } catch (error) {
      this.#fillError = error instanceof Error ? error : new Error(String(error));
      this.#failures++;
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#fillError);
      this.#notify();
      // The cause above is what callers see; a failing teardown must not replace it.
      await sandbox?.destroy().catch(() => {});
      return false;
    }
    this.#fillError = undefined;
    this.#failures = 0;
    if (this.#closed) {
      // close() is waiting on this create: a teardown error must not make it reject.
      await sandbox.destroy().catch(() => {});
      return true;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(sandbox);
    else this.#idle.push(sandbox);
    this.#notify();
    return true;
  }
}
