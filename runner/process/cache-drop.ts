/**
 * Dropping the page cache before a run (cold-cache timings), and recording
 * honestly whether it happened: the "Cached:" line of /proc/meminfo is read
 * before and after every drop, so a reader can see the cache really emptied.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { median } from '../stats/percentile.ts';
import { runUntimed } from './untimed.ts';

const DROP_METHOD = '/proc/sys/vm/drop_caches = 3 after sync';

export interface CacheDropOptions {
  /** Where "3" is written; tests point it at an unwritable path to see the failure recorded. */
  dropPath?: string;
  meminfoPath?: string;
}

/** What facts.cache_drops says. */
export interface CacheDropFacts {
  requested: boolean;
  /** Drops tried (one before every run, warmups included). */
  attempted: number;
  succeeded: number;
  /** Why the first failed drop failed, e.g. "EACCES: permission denied, open '/proc/sys/vm/drop_caches'". */
  failed_reason?: string;
  method: string;
  /** Median kB of page cache just before / just after the successful drops; null when none succeeded. */
  cached_kib_before_median: number | null;
  cached_kib_after_median: number | null;
}

/** The "Cached:" value of a /proc/meminfo text, in kB. */
function parseCachedKib(meminfo: string): number | null {
  const match = /^Cached:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match ? Number(match[1]) : null;
}

export class CacheDropper {
  #attempted = 0;
  #succeeded = 0;
  #failedReason: string | undefined;
  #before: number[] = [];
  #after: number[] = [];
  readonly #dropPath: string;
  readonly #meminfoPath: string;

  constructor(
    readonly requested: boolean,
    options: CacheDropOptions = {},
  ) {
    this.#dropPath = options.dropPath ?? '/proc/sys/vm/drop_caches';
    this.#meminfoPath = options.meminfoPath ?? '/proc/meminfo';
  }

  /** sync, then drop; a failed drop is counted and explained, never thrown (the run is still measured). */
  async drop(signal: AbortSignal, timeoutMs: number): Promise<void> {
    this.#attempted++;
    try {
      const before = await this.#cachedKib();
      await runUntimed('sync', ['sync'], { signal, timeoutMs });
      await writeFile(this.#dropPath, '3');
      const after = await this.#cachedKib();
      this.#succeeded++;
      if (before !== null && after !== null) {
        this.#before.push(before);
        this.#after.push(after);
      }
    } catch (error) {
      if (signal.aborted) throw error;
      this.#failedReason ??= (error as Error).message;
    }
  }

  facts(): CacheDropFacts {
    return {
      requested: this.requested,
      attempted: this.#attempted,
      succeeded: this.#succeeded,
      ...(this.#failedReason !== undefined ? { failed_reason: this.#failedReason } : {}),
      method: DROP_METHOD,
      cached_kib_before_median: this.#before.length > 0 ? median(this.#before) : null,
      cached_kib_after_median: this.#after.length > 0 ? median(this.#after) : null,
    };
  }

  async #cachedKib(): Promise<number | null> {
    return parseCachedKib(await readFile(this.#meminfoPath, 'utf8'));
  }
}
