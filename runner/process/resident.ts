/**
 * How much of a file is in the page cache, by util-linux's `fincore` (mincore
 * on a mapping, which reads no page in). After a cache drop it shows whether a
 * program's file really left memory: pages a live process maps stay.
 */
import { execa } from 'execa';
import { which } from '../../base/which.ts';

export interface Residency {
  file: string;
  /** Bytes of the file in the page cache. */
  resident: number;
  size: number;
}

/** Residency of each file; throws with fincore's complaint (a missing file, no fincore). */
export async function residency(files: readonly string[], opts: { signal?: AbortSignal; timeoutMs: number }): Promise<Residency[]> {
  const fincore = which('fincore');
  if (!fincore) throw new Error('fincore (util-linux) not on PATH');
  const { stdout } = await execa(fincore, ['--json', '--bytes', '--output', 'RES,SIZE,FILE', '--', ...files], {
    cancelSignal: opts.signal,
    timeout: opts.timeoutMs,
    stdin: 'ignore',
  });
  const rows = (JSON.parse(stdout) as { fincore: { res: number | string; size: number | string; file: string }[] }).fincore;
  return rows.map((row) => ({ file: row.file, resident: Number(row.res), size: Number(row.size) }));
}
