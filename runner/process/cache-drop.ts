/**
 * Dropping the page cache before a run (cold-cache timings), and recording
 * honestly whether it happened: the "Cached:" line of /proc/meminfo is read
 * before and after every drop, so a reader can see the cache really emptied,
 * and how much of the program's own files stayed in memory after it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { median } from '../stats/percentile.ts';
import { residency } from './resident.ts';
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
  /** Per file watched (the program, its interpreter): its size and the median kB of it still cached after a drop. */
  resident_after_drop?: Record<string, { size_kib: number; resident_kib_median: number | null }>;
  /** Why residency could not be read, e.g. "fincore (util-linux) not on PATH". */
  resident_unavailable?: string;
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
  #watched = new Map<string, { size: number; resident: number[] }>();
  #residentUnavailable: string | undefined;
  readonly #dropPath: string;
  readonly #meminfoPath: string;

  constructor(
    readonly requested: boolean,
    options: CacheDropOptions = {},
  ) {
    this.#dropPath = options.dropPath ?? '/proc/sys/vm/drop_caches';
    this.#meminfoPath = options.meminfoPath ?? '/proc/meminfo';
  }

  /** Files whose residency is read after each successful drop (`fincore`, untimed). */
  watch(files: readonly string[]): void {
    for (const file of files) if (!this.#watched.has(file)) this.#watched.set(file, { size: 0, resident: [] });
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
      await this.#readResidency(signal, timeoutMs);
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
      ...(this.#watched.size > 0 && this.#residentUnavailable === undefined
        ? {
            resident_after_drop: Object.fromEntries(
              [...this.#watched].map(([file, { size, resident }]) => [
                file,
                { size_kib: Math.round(size / 1024), resident_kib_median: resident.length > 0 ? Math.round(median(resident) / 1024) : null },
              ]),
            ),
          }
        : {}),
      ...(this.#residentUnavailable !== undefined ? { resident_unavailable: this.#residentUnavailable } : {}),
    };
  }

  async #readResidency(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.#watched.size === 0 || this.#residentUnavailable !== undefined) return;
    try {
      for (const row of await residency([...this.#watched.keys()], { signal, timeoutMs })) {
        const watched = this.#watched.get(row.file);
        if (!watched) continue;
        watched.size = row.size;
        watched.resident.push(row.resident);
      }
    } catch (error) {
      if (signal.aborted) throw error;
      this.#residentUnavailable = (error as Error).message;
    }
  }

  async #cachedKib(): Promise<number | null> {
    return parseCachedKib(await readFile(this.#meminfoPath, 'utf8'));
  }
}
