/**
 * The trees the two sides of `rigor ab` run from: a git worktree of each
 * commit asked for (the head defaults to the checkout itself, dirty state and
 * all), under one scratch directory that names its owner's pid — removed at
 * the end, on Ctrl-C, and, after a SIGKILL, by the next run's sweep.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { InputError } from '../../base/errors.ts';
import { sweepStaleTempDirs } from '../../base/temp-dirs.ts';
import { collectGit } from '../host/git.ts';
import type { SideName } from './side-worker.ts';
import { SideError } from './side-worker.ts';

export interface SideTree {
  side: SideName;
  /** The ref given; null for the working tree. */
  ref: string | null;
  commit: string | null;
  dirty: boolean;
  dirty_paths: string[];
  path: string;
  tree: 'worktree' | 'working-tree';
  dependencies: 'own' | 'linked' | 'installed';
}

async function git(root: string, args: string[]): Promise<string> {
  const result = await execa('git', ['-C', root, ...args], { reject: false });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${String(result.stderr).trim() || `exit ${result.exitCode}`}`);
  return String(result.stdout).trim();
}

/** The commit a ref names, or an input error naming the side and the ref. */
export async function resolveCommit(root: string, side: SideName, ref: string): Promise<string> {
  const result = await execa('git', ['-C', root, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { reject: false });
  const commit = String(result.stdout).trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new InputError(`--${side} ${ref}: expected a git ref naming a commit of ${root}, found none`);
  }
  return commit;
}

/** The scratch directory of this run (worktrees go under it), after sweeping what killed runs left. */
export async function openScratch(root: string): Promise<string> {
  sweepStaleTempDirs();
  // A worktree whose directory a sweep removed is still registered: drop the registration.
  await git(root, ['worktree', 'prune']).catch(() => {});
  return mkdtempSync(join(tmpdir(), `rigor-ab-${process.pid}-`));
}

/** The working tree rigor runs from, as the head side. */
export function workingTree(root: string): SideTree {
  const state = collectGit(root);
  return { side: 'head', ref: null, commit: state.commit, dirty: state.dirty, dirty_paths: state.dirty_paths, path: root, tree: 'working-tree', dependencies: 'own' };
}

/**
 * A detached worktree of `commit`, with dependencies: the checkout's
 * node_modules linked when the lockfiles are byte for byte the same, else
 * `npm ci` in the worktree. A failure names the side.
 */
export async function addWorktree(
  root: string,
  scratch: string,
  side: SideName,
  ref: string,
  commit: string,
  log: (line: string) => void,
): Promise<SideTree> {
  const path = join(scratch, side);
  try {
    await git(root, ['worktree', 'add', '--detach', '--quiet', path, commit]);
  } catch (error) {
    throw new SideError(side, `could not check out ${ref} (${commit.slice(0, 12)}): ${(error as Error).message}`);
  }
  const lock = (dir: string) => (existsSync(join(dir, 'package-lock.json')) ? readFileSync(join(dir, 'package-lock.json')) : null);
  const ours = lock(root);
  const theirs = lock(path);
  let dependencies: SideTree['dependencies'];
  if (ours && theirs && ours.equals(theirs) && existsSync(join(root, 'node_modules'))) {
    symlinkSync(join(root, 'node_modules'), join(path, 'node_modules'));
    dependencies = 'linked';
  } else {
    log(`${side}: package-lock.json differs from this checkout's: npm ci in its worktree`);
    const installed = await execa('npm', ['ci', '--no-audit', '--no-fund'], { cwd: path, reject: false, all: true });
    if (installed.exitCode !== 0) {
      throw new SideError(side, `npm ci failed in the worktree of ${ref} (exit ${installed.exitCode}):\n${String(installed.all).trim().split('\n').slice(-15).join('\n')}`);
    }
    dependencies = 'installed';
  }
  return { side, ref, commit, dirty: false, dirty_paths: [], path, tree: 'worktree', dependencies };
}

/** Remove every worktree under the scratch directory and the directory itself. */
export async function closeScratch(root: string, scratch: string, trees: readonly SideTree[]): Promise<void> {
  for (const tree of trees) {
    if (tree.tree !== 'worktree') continue;
    await git(root, ['worktree', 'remove', '--force', '--force', tree.path]).catch(() => {});
  }
  rmSync(scratch, { recursive: true, force: true });
  await git(root, ['worktree', 'prune']).catch(() => {});
}
