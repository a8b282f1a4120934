/** Which code produced a number: commit, branch and uncommitted changes of the working tree. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GitState {
  commit: string | null;
  branch: string | null;
  dirty: boolean;
  dirty_paths: string[];
}

/** Beyond this many changed paths the list ends with one "(+N more paths not listed)" entry. */
export const MAX_DIRTY_PATHS = 200;

function git(cwd: string, args: string[]): string | null {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return result.status === 0 ? result.stdout : null;
}

/** Paths from `git status --porcelain=v1 -z`; a rename or copy lists its new path. */
export function parsePorcelain(output: string): string[] {
  const entries = output.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // the next entry is the old path
  }
  return paths;
}

function capped(paths: string[]): string[] {
  if (paths.length <= MAX_DIRTY_PATHS) return paths;
  return [...paths.slice(0, MAX_DIRTY_PATHS), `(+${paths.length - MAX_DIRTY_PATHS} more paths not listed)`];
}

/**
 * Outside a git repository (or without git) there is no commit to trace to:
 * commit and branch are null and dirty is false, as nothing differs from a
 * commit that does not exist. In a repository with no commits yet, commit is
 * null, branch is the unborn branch, and every file shows up as dirty.
 * Files under results/ (artifacts: outputs, not inputs) are not counted.
 * Untracked files count as dirty: a rig that is not committed cannot be re-run
 * from the commit. A detached HEAD has branch null. A tree a fleet run
 * unpacked from `git archive` is no repository: its SHIPPED_SOURCE file says
 * which commit it is and which changes were applied on top.
 */
export function collectGit(cwd: string = process.cwd()): GitState {
  if (git(cwd, ['rev-parse', '--git-dir']) === null) return shippedSource(cwd) ?? { commit: null, branch: null, dirty: false, dirty_paths: [] };
  const commit = git(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD'])?.trim() || null;
  const branch = git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD'])?.trim() || null;
  // results/ holds outputs (artifacts), not inputs: a new artifact does not make the code dirty.
  const paths = parsePorcelain(git(cwd, ['status', '--porcelain=v1', '-z', '--', ':/', ':(top,exclude)results']) ?? '');
  return { commit, branch, dirty: paths.length > 0, dirty_paths: capped(paths) };
}

/** Written by fleet/run.yml into the unpacked tree of a fleet run: the GitState of the tree rigor fleet run shipped. */
export const SHIPPED_SOURCE = '.rigor-source.json';

/** The GitState a fleet run recorded for this tree; null when there is none (or it is not one). */
export function shippedSource(cwd: string): GitState | null {
  let data: Partial<GitState>;
  try {
    data = JSON.parse(readFileSync(join(cwd, SHIPPED_SOURCE), 'utf8')) as Partial<GitState>;
  } catch {
    return null;
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  if (text(data.commit) === null || typeof data.dirty !== 'boolean' || !Array.isArray(data.dirty_paths)) return null;
  return { commit: text(data.commit), branch: text(data.branch), dirty: data.dirty, dirty_paths: data.dirty_paths.filter((p) => typeof p === 'string') };
}
