/**
 * Real small file systems for fault tests: a tmpfs of a few KiB fills up like
 * a full disk, and a tmpfs remounted read-only refuses writes even to root
 * (who passes every mode-bit check). Needs root, as the CI host has.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallMount {
  path: string;
  /** Unmount and remove the mount point. */
  remove: () => void;
}

/** A tmpfs of `kib` KiB, optionally read-only: filled by `fill` (files to create while writable) before the remount. */
export function mountTmpfs(kib: number, opts: { readOnly?: boolean; fill?: (path: string) => void } = {}): SmallMount {
  const path = mkdtempSync(join(tmpdir(), 'rigor-small-fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'rigor-test', path]);
  opts.fill?.(path);
  if (opts.readOnly) execFileSync('mount', ['-o', 'remount,ro', path]);
  return {
    path,
    remove: () => {
      execFileSync('umount', [path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
