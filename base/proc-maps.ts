/**
 * The files a process has mapped, from /proc/<pid>/maps: pages of a file a
 * live process maps stay in the page cache whatever drop_caches asks, so a
 * "cold" start of such a file is not cold.
 */
import { readText } from './read-text.ts';

/** Paths of the files mapped by `pid` (or this process), as the kernel names them; null when the process is gone. */
export function mappedFiles(pid: number | 'self'): Set<string> | null {
  const text = readText(`/proc/${pid}/maps`);
  if (text === null) return null;
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    // address perms offset dev inode pathname: the path starts at the first "/" after the inode
    const match = /^\S+ \S+ \S+ \S+ [1-9]\d* +(\/.*)$/.exec(line);
    if (match && !match[1]!.endsWith(' (deleted)')) files.add(match[1]!);
  }
  return files;
}
