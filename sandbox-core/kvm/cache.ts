/** The KVM probe verdict, remembered until the next boot (or another guest kernel). */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CachedVerdict {
  status: 'usable' | 'present-but-unusable' | 'unprobed';
  reason: string;
  probe_ms: number | null;
}

interface CacheFile {
  boot_id: string;
  kernel: string;
  verdict: CachedVerdict;
}

export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'rigor');
}

function cacheFile(cacheDir: string): string {
  return path.join(cacheDir, 'kvm-probe.json');
}

/** The verdict stored for this boot and kernel, or null. */
export function readCachedVerdict(cacheDir: string, bootId: string, kernel: string): CachedVerdict | null {
  try {
    const stored = JSON.parse(readFileSync(cacheFile(cacheDir), 'utf8')) as Partial<CacheFile>;
    if (stored.boot_id !== bootId || stored.kernel !== kernel || typeof stored.verdict?.reason !== 'string') return null;
    return stored.verdict;
  } catch {
    return null; // missing or unreadable: probe again
  }
}

/** Atomic (temp + rename) so a concurrent reader never sees half a file. */
export function writeCachedVerdict(cacheDir: string, bootId: string, kernel: string, verdict: CachedVerdict): void {
  mkdirSync(cacheDir, { recursive: true });
  const target = cacheFile(cacheDir);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ boot_id: bootId, kernel, verdict } satisfies CacheFile, null, 2)}\n`);
  renameSync(temp, target);
}
