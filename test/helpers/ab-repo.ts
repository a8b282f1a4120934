/**
 * A two-commit repository for `rigor ab`: a copy of this checkout (its
 * runner, workloads and sandbox core, which each side loads from its own
 * tree) plus a rig timing a shell loop whose length each commit sets.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './cli.ts';

export const BUSY_RIG = `name: busy
title: A shell loop whose length the commit sets
claim: rigor ab tells a head that does more work from its base.
workload: command
params:
  run: [sh, fixture/busy.sh]
matrix:
  loop: [shell]
sampling: { warmup: 1, iterations: 60 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
  user_ms: { unit: ms, better: lower, clock: "CPU time in user mode of the child (rusage): fork -> exit" }
gates:
  # CPU time: what the commit changed, and what other work on a loaded host (a test run's) changes least.
  - { metric: user_ms, stat: median, max_ratio: 1.1 }
`;

export function busyScript(iterations: number): string {
  return `i=0; while [ "$i" -lt ${iterations} ]; do i=$((i+1)); done\n`;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
}

/** A copy of this checkout's files (results/ left out) in a new git repository with one commit; node_modules linked. */
export function repositoryCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-test-repo-'));
  const files = git(REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0').filter((f) => f && !f.startsWith('results/'));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      cpSync(join(REPO, file), join(dir, file));
    } catch {
      // deleted in the working tree but still in the index
    }
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  git(dir, 'init', '--quiet');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'copy');
  return dir;
}

/**
 * A repository whose HEAD~1 loops `base` times and HEAD `head` times; node_modules linked from this checkout.
 * `rigs`: more rigs, by name, the same in both commits.
 */
export function abRepository(loops: { base: number; head: number }, rigs: Record<string, string> = {}): string {
  const dir = repositoryCopy();
  mkdirSync(join(dir, 'fixture'));
  writeFileSync(join(dir, 'rigs', 'busy.rig.yaml'), BUSY_RIG);
  for (const [name, text] of Object.entries(rigs)) writeFileSync(join(dir, 'rigs', `${name}.rig.yaml`), text);
  writeFileSync(join(dir, 'fixture', 'busy.sh'), busyScript(loops.base));
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'base');
  writeFileSync(join(dir, 'fixture', 'busy.sh'), busyScript(loops.head));
  git(dir, 'commit', '--quiet', '-am', 'head');
  return dir;
}
