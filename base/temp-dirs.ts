/**
 * Temp dirs that name the process that owns them, so that what a SIGKILLed
 * process left behind can be told from what a live one still uses, and swept.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { processExists } from './signal.ts';

/** Mount points of this process's mount namespace, octal escapes (\040) decoded. */
export function hostMountPoints(): string[] {
  const text = readFileSync('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[1]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/** Whether `path` is `dir` or below it. */
export function isInside(path: string, dir: string): boolean {
  const root = resolve(dir);
  return path === root || path.startsWith(root + sep);
}

/** How owned temp dirs are named, `rigor-<kind>-<owner pid>-` + mkdtemp's 6 characters; only these are ever swept. */
const TEMP_DIR_PATTERN = /^rigor-([a-z0-9]+)-(\d+)-[A-Za-z0-9]{6}$/;

/** The kind and owner pid an owned temp dir's name carries (`rigor-runc-42-AbC123` → runc, 42), or undefined for any other name. */
export function tempDirOwner(name: string): { kind: string; owner: number } | undefined {
  const match = TEMP_DIR_PATTERN.exec(name);
  return match ? { kind: match[1]!, owner: Number(match[2]) } : undefined;
}

/**
 * Remove owned temp dirs under `root` (default os.tmpdir()) whose owner process is gone
 * (rigor was SIGKILLed); returns the paths removed. A dir whose pid is alive
 * is kept even if the pid was reused: a leak, never a lost live workspace.
 */
export function sweepStaleTempDirs(root: string = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const owner = tempDirOwner(name)?.owner;
    return owner !== undefined && owner !== process.pid && !processExists(owner);
  });
  if (stale.length === 0) return [];
  const mountPoints = hostMountPoints();
  const removed: string[] = [];
  for (const name of stale) {
    const dir = join(root, name);
    if (mountPoints.some((point) => isInside(point, dir))) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
