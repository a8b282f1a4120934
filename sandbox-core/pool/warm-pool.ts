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
 *
 * Tiers (sandbox-core/README.md, Warm pool tiers): the paused sandboxes above
 * are the hot tier. With `durable`, the pool also keeps a snapshot on disk,
 * saved once from a cold-booted sandbox (Sandbox.snapshot): with `size: 0`
 * every acquire restores a new sandbox from it (Backend.restore); with a hot
 * tier, the hot tier is refilled by restoring it instead of by cold boots.
 * Every acquire says which tier served it. A snapshot that will not restore
 * (files damaged or gone) takes the durable tier out of service for good:
 * the error (naming the file) is kept in `durableError`, and the pool serves
 * on by cold create, hot tier or not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Sandbox, SandboxSpec } from '../backends/types.ts';

/** Retry delay after the first failed create, doubled per consecutive failure up to the cap. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

export interface WarmPoolOptions {
  /** Paused sandboxes kept ready: the hot tier (0 = none, only with `durable`). */
  size: number;
  spec?: SandboxSpec;
  /** Sandboxes created (or restored) at once while filling (default 2: this kind of host has few cores). */
  fillConcurrency?: number;
  /**
   * A durable tier: a snapshot saved once into a directory of the pool's own under `parent` (default
   * the OS temp dir), removed by close(). Needs a backend with restore() whose snapshotSupport() is ok.
   */
  durable?: { parent?: string };
}

/**
 * Which tier served an acquire: `hot`, a paused sandbox that was idle; `durable`, one restored from the
 * snapshot for this acquire; `cold`, one cold-booted for it (no tier had one ready, or the durable tier is
 * out of service). A hot tier that was empty serves what its refill made next: `durable` or `cold`.
 */
export type Tier = 'hot' | 'durable' | 'cold';

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
  tier: Tier;
}

/** A sandbox the pool holds, and how it was made. */
interface Made {
  sandbox: Sandbox;
  tier: 'durable' | 'cold';
}

/** The snapshot directory inside the pool's own directory under `durable.parent`. */
const SNAPSHOT_NAME = 'snapshot';

export class WarmPool {
  readonly #backend: Backend;
  readonly #options: Required<Omit<WarmPoolOptions, 'spec' | 'durable'>> & Pick<WarmPoolOptions, 'durable'> & { spec: SandboxSpec };
  readonly #idle: Made[] = [];
  readonly #waiters: { resolve: (made: Made) => void; reject: (error: Error) => void }[] = [];
  /** Creates in flight, each settling when its sandbox is idle, handed out or given up. */
  readonly #creating = new Set<Promise<void>>();
  #closed = false;
  /** The last create's failure, until a create succeeds. */
  #fillError: Error | undefined;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Woken whenever the idle list grows or a create fails (warm() waits on it). */
  #changed: (() => void)[] = [];
  /** The durable tier's save, started once by the first fill or acquire; rejects when the backend refuses snapshots. */
  #saving: Promise<void> | undefined;
  /** The pool's own directory (holding the snapshot), made by the save. */
  #root: string | undefined;
  #durableError: Error | undefined;
  /**
   * Counters for facts: cold creates (the durable tier's first sandbox included), restores and saves;
   * acquires, how many found the hot tier empty (`waited`), and which tier served them; durable restores
   * or saves that failed.
   */
  readonly counts = { created: 0, restored: 0, saved: 0, acquired: 0, waited: 0, served: { hot: 0, durable: 0, cold: 0 }, durableFailures: 0 };

  constructor(backend: Backend, options: WarmPoolOptions) {
    const least = options.durable ? 0 : 1;
    if (!Number.isInteger(options.size) || options.size < least) {
      throw new RangeError(`pool size must be a whole number >= ${least}${options.durable ? '' : ' (0 only with a durable tier)'}, got ${options.size}`);
    }
    if (options.durable && !backend.restore) throw new Error(`pool: backend ${backend.name} has no snapshot/restore: it cannot keep a durable tier`);
    this.#backend = backend;
    this.#options = { fillConcurrency: 2, spec: {}, ...options };
  }

  /** The durable tier's snapshot directory once saved (until close()); undefined without one. */
  get snapshotDir(): string | undefined {
    return this.#root && !this.#durableError ? join(this.#root, SNAPSHOT_NAME) : undefined;
  }

  /** Why the durable tier is out of service (its save or a restore failed, the file named), or undefined. */
  get durableError(): Error | undefined {
    return this.#durableError;
  }

  /** Fill the pool: save the durable tier's snapshot (when it has one) and wait until `size` paused sandboxes are idle. */
  async fill(): Promise<void> {
    await this.#durableReady();
    return this.warm(this.#options.size);
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** Ids of the paused sandboxes waiting to be acquired (for inspection: tests, facts). */
  idleIds(): string[] {
    return this.#idle.map((made) => made.sandbox.id);
  }

  async acquire(): Promise<Acquired> {
    if (this.#closed) throw new Error('acquire() on a closed pool');
    const start = performance.now();
    const idle = this.#idle.shift();
    let made: Made;
    if (idle) made = idle;
    else if (this.#options.size === 0) {
      // No hot tier: restored (or, the durable tier out of service, created) for this acquire.
      made = await this.#make();
      if (this.#closed) {
        await made.sandbox.destroy().catch(() => {});
        throw new Error('pool closed');
      }
    } else {
      this.counts.waited++;
      // A backend refusing snapshots refuses here too (the refill would only keep failing).
      await this.#durableReady();
      if (this.#fillError) throw this.#fillError;
      const waiting = new Promise<Made>((resolve, reject) => this.#waiters.push({ resolve, reject }));
      // A pool never filled has no refill under way yet.
      this.#refill();
      made = await waiting;
    }
    const tier: Tier = idle ? 'hot' : made.tier;
    const { sandbox } = made;
    this.counts.acquired++;
    this.counts.served[tier]++;
    const taken = performance.now() - start;
    try {
      // A sandbox made for this acquire was never paused; resume() is then a no-op.
      await sandbox.resume();
      const resumed = performance.now() - start;
      await sandbox.ping();
      return { sandbox, times: { taken, resumed, ready: performance.now() - start }, tier };
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

  /** Stop refilling, destroy every idle sandbox (and any still being created) and remove the durable tier's directory. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('pool closed'));
    this.#notify();
    const idle = this.#idle.splice(0);
    await Promise.all([...idle.map((made) => made.sandbox.destroy()), ...this.#creating, this.#saving?.catch(() => {})]);
    if (this.#root) await rm(this.#root, { recursive: true, force: true });
  }

  /** Whether the durable tier can serve: saves its snapshot the first time; throws when the backend refuses snapshots here. */
  async #durableReady(): Promise<boolean> {
    if (!this.#options.durable) return false;
    this.#saving ??= this.#save();
    await this.#saving;
    return this.#durableError === undefined;
  }

  /** The snapshot, saved from a cold-booted sandbox, which then goes; a failed save takes the tier out of service. */
  async #save(): Promise<void> {
    const support = (await this.#backend.snapshotSupport?.()) ?? { ok: false, reason: 'it has no snapshotSupport()' };
    if (!support.ok) throw new Error(`pool: backend ${this.#backend.name} cannot keep a durable tier here: ${support.reason}`);
    this.#root = await mkdtemp(join(this.#options.durable!.parent ?? tmpdir(), 'rigor-pool-'));
    const dir = join(this.#root, SNAPSHOT_NAME);
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await this.#backend.create(this.#options.spec);
      this.counts.created++;
      await sandbox.snapshot!(dir);
      this.counts.saved++;
    } catch (error) {
      this.#durableFailed(error, `saving ${dir}`);
    } finally {
      await sandbox?.destroy().catch(() => {});
    }
  }

  #durableFailed(error: unknown, what: string): void {
    this.counts.durableFailures++;
    const fallback = this.#options.size > 0 ? 'the hot tier, refilled by cold create' : 'cold create';
    this.#durableError ??= new Error(`pool: durable tier out of service, serving from ${fallback}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** A new sandbox, restored from the durable tier when it serves, else cold-booted. */
  async #make(): Promise<Made> {
    if (await this.#durableReady()) {
      const dir = join(this.#root!, SNAPSHOT_NAME);
      try {
        const sandbox = await this.#backend.restore!(dir, { ...(this.#options.spec.readyTimeoutMs !== undefined ? { readyTimeoutMs: this.#options.spec.readyTimeoutMs } : {}) });
        this.counts.restored++;
        return { sandbox, tier: 'durable' };
      } catch (error) {
        // restore() leaves nothing running when it fails (Backend.restore).
        this.#durableFailed(error, `restoring ${dir}`);
      }
    }
    const sandbox = await this.#backend.create(this.#options.spec);
    this.counts.created++;
    return { sandbox, tier: 'cold' };
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

  /** One sandbox made (restored or created) and paused, then handed to a waiter or kept idle; false when it failed. */
  async #createOne(): Promise<boolean> {
    let made: Made | undefined;
    try {
      made = await this.#make();
      await made.sandbox.pause();
    } catch (error) {
      this.#fillError = error instanceof Error ? error : new Error(String(error));
      this.#failures++;
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#fillError);
      this.#notify();
      // The cause above is what callers see; a failing teardown must not replace it.
      await made?.sandbox.destroy().catch(() => {});
      return false;
    }
    this.#fillError = undefined;
    this.#failures = 0;
    if (this.#closed) {
      // close() is waiting on this create: a teardown error must not make it reject.
      await made.sandbox.destroy().catch(() => {});
      return true;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(made);
    else this.#idle.push(made);
    this.#notify();
    return true;
  }
}
