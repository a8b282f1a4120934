/** Small text files of /proc, /sys and /etc, read where they may be missing. */
import { readFileSync } from 'node:fs';

/** Reads a small text file; null when it does not exist or cannot be read. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
