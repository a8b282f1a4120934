/**
 * The code a fleet run ships: a `git archive` of HEAD (results/ left out:
 * outputs, not inputs) and, when the working tree is dirty, its changes as one
 * binary diff against HEAD, untracked files included, made through a
 * temporary index so the user's own index is never touched.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { collectGit, type GitState } from '../host/git.ts';

export interface ShippedSource {
  git: GitState;
  archive: string;
  archiveSha256: string;
  /** The diff file; null when the tree is clean. */
  diff: string | null;
  diffSha256: string | null;
}

function git(repo: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} in ${repo}: exit ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Write the archive (and the diff, when dirty) into `workDir`. */
export function packSource(repo: string, workDir: string): ShippedSource {
  const state = collectGit(repo);
  if (!state.commit) throw new InputError(`${repo}: a fleet run ships the project as a git archive of HEAD; expected a git repository with a commit, found none`);
  const archive = join(workDir, 'source.tar.gz');
  git(repo, ['archive', '--format=tar.gz', '-o', archive, 'HEAD', '--', '.', ':(exclude)results']);
  let diff: string | null = null;
  if (state.dirty) {
    const index = join(workDir, 'index');
    const env = { GIT_INDEX_FILE: index };
    git(repo, ['read-tree', 'HEAD'], env);
    git(repo, ['add', '-A', '--', '.', ':(exclude)results'], env);
    const text = git(repo, ['diff', '--cached', '--binary', 'HEAD'], env);
    rmSync(index, { force: true });
    if (text !== '') {
      diff = join(workDir, 'changes.diff');
      writeFileSync(diff, text);
    }
  }
  return { git: state, archive, archiveSha256: sha256(archive), diff, diffSha256: diff ? sha256(diff) : null };
}
