/**
 * Host memory of a set of processes. PSS (proportional set size: each shared
 * page divided by the number of processes mapping it) is what N sandboxes
 * really cost together; RSS counts shared pages once per process and is only
 * the fallback when /proc/<pid>/smaps_rollup (Linux >= 4.14) cannot be read.
 */
import { readFileSync } from 'node:fs';
import type { SandboxStats } from './types.ts';

export type MemoryReading = SandboxStats['memory'];

/** The kB value of `field:` in a /proc status-like text; null when absent. */
export function kibField(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** Read one /proc file of a pid; null when the process is gone. Other errors (EACCES) throw. */
function readProcFile(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw error;
  }
}

/**
 * Summed PSS of `pids` from smaps_rollup; if any of them cannot be read that
 * way, summed VmRSS of all of them instead, so one reading never mixes kinds.
 * Processes that exited meanwhile count as 0.
 */
export function memoryOf(pids: number[]): MemoryReading {
  try {
    let kib = 0;
    for (const pid of pids) {
      const text = readProcFile(pid, 'smaps_rollup');
      if (text === null) continue;
      const pss = kibField(text, 'Pss');
      if (pss === null) throw new Error(`no Pss line in /proc/${pid}/smaps_rollup`);
      kib += pss;
    }
    return { bytes: kib * 1024, kind: 'pss', method: 'sum of Pss in /proc/<pid>/smaps_rollup' };
  } catch {
    let kib = 0;
    for (const pid of pids) kib += kibField(readProcFile(pid, 'status') ?? '', 'VmRSS') ?? 0;
    return { bytes: kib * 1024, kind: 'rss', method: 'sum of VmRSS in /proc/<pid>/status (smaps_rollup unreadable)' };
  }
}
