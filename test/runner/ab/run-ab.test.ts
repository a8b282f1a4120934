/**
 * `rigor ab` end to end on a two-commit repository: each side runs its own
 * tree's loop; a head that loops 20% longer fails the paired gate, the same
 * commit on both sides passes, and nothing is left behind — no worktree, no
 * worker, no scratch directory — also after Ctrl-C.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { assertValidArtifact } from '../../../runner/artifact/validate.ts';
import { abRepository } from '../../helpers/ab-repo.ts';
import { CLI, rigor } from '../../helpers/cli.ts';
import { processesWithEnv, useOwnTmpdir } from '../../helpers/leftovers.ts';
import { spawn } from 'node:child_process';

// The head loops 20% longer; the spawn around it is the same, so the head is a little less than 1.2x slower.
const repo = abRepository({ base: 20000, head: 24000 });
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function worktrees(): string[] {
  return execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: repo, encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith('worktree '));
}

// Other test files run `rigor ab` at the same time: this file's runs make their scratch dirs in a TMPDIR of its own.
const ownTmp = useOwnTmpdir('rigor-test-ab-tmp-');

function scratchDirs(): string[] {
  return readdirSync(ownTmp).filter((name) => name.startsWith('rigor-ab-'));
}

function onlyArtifact(dir: string): Artifact {
  const files = readdirSync(dir).filter((name) => name.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as Artifact;
}

function ab(args: string[], mark: string) {
  return rigor(['ab', 'busy', ...args, '--quiet'], { cwd: repo, env: { RIGOR_TEST_MARK: mark, CI: '' } });
}

describe('rigor ab on two commits', () => {
  const before = scratchDirs();

  it('fails the paired gate (max 1.1x) when the head does 20% more work, with both sides in one valid artifact', () => {
    const mark = randomUUID();
    const out = join(repo, 'out-slower');
    const result = ab(['--base', 'HEAD~1', '--head', 'HEAD', '--out', out, '--seed', '7', '--rounds', '20'], mark);
    expect(result.code, result.stderr + result.stdout).toBe(1);
    const artifact = onlyArtifact(out);
    expect(() => assertValidArtifact(artifact, out)).not.toThrow();
    expect(artifact.run.mode).toBe('ab');
    expect(artifact.ab!.base.commit).not.toBe(artifact.ab!.head.commit);
    expect(artifact.ab!.base.dependencies).toBe('linked');
    expect(artifact.interleave!.seed).toBe(7);
    // Every round ran both sides of the one cell.
    for (const order of artifact.interleave!.order) expect([...order].sort()).toEqual(['base:loop=shell', 'head:loop=shell']);
    const gate = artifact.gates.find((g) => g.cell === 'loop=shell')!;
    expect(gate).toMatchObject({ verdict: 'fail', method: 'paired', correction: 'Holm' });
    expect(gate.ratio!).toBeGreaterThan(1.1);
    expect(result.stdout).toMatch(/A\/B: base HEAD~1 .* vs head HEAD/);
    // rigor gate on the artifact applies the same paired rule.
    const gated = rigor(['gate', join(out, readdirSync(out)[0]!)], { cwd: repo, env: { CI: '' } });
    expect(gated.code).toBe(1);
    expect(gated.stdout).toMatch(/method: +paired/);
    expect(processesWithEnv(`RIGOR_TEST_MARK=${mark}`)).toEqual([]);
  });

  it('passes when both sides are the same commit', () => {
    const mark = randomUUID();
    const out = join(repo, 'out-same');
    const result = ab(['--base', 'HEAD', '--head', 'HEAD', '--out', out, '--rounds', '20'], mark);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const artifact = onlyArtifact(out);
    expect(artifact.gates.map((g) => g.verdict)).toEqual(['pass']);
    expect(processesWithEnv(`RIGOR_TEST_MARK=${mark}`)).toEqual([]);
  });

  it('names the side of a ref that does not exist, and of a rig the base does not have, before measuring', () => {
    const missing = ab(['--base', 'no-such-ref'], randomUUID());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--base no-such-ref: expected a git ref naming a commit/);
    const noRig = rigor(['ab', 'startup-nope', '--base', 'HEAD~1', '--quiet'], { cwd: repo, env: { CI: '' } });
    expect(noRig.code).toBe(2);
    expect(noRig.stderr).toMatch(/rigor ab: (base|head): this tree has no rig startup-nope/);
  });

  it('leaves no worktree and no scratch directory behind', () => {
    expect(worktrees()).toHaveLength(1);
    expect(scratchDirs().filter((name) => !before.includes(name))).toEqual([]);
  });

  it('on Ctrl-C writes an interrupted artifact and leaves no worktree, worker or directory', async () => {
    const mark = randomUUID();
    const out = join(repo, 'out-interrupted');
    const child = spawn(process.execPath, [CLI, 'ab', 'busy', '--base', 'HEAD~1', '--rounds', '500', '--out', out], {
      cwd: repo,
      env: { ...process.env, RIGOR_TEST_MARK: mark, CI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // Both workers exist once a round has started.
        if (/\[round \d+\/500/.test(stderr) || /\[warmup round/.test(stderr)) resolve();
      });
    });
    // Let a round or two be measured, counted by the workers' processes rather than by time.
    while (processesWithEnv(`RIGOR_TEST_MARK=${mark}`).length < 2) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    const artifact = onlyArtifact(out);
    expect(artifact.run.status).toBe('interrupted');
    expect(worktrees()).toHaveLength(1);
    expect(scratchDirs().filter((name) => !before.includes(name))).toEqual([]);
    expect(processesWithEnv(`RIGOR_TEST_MARK=${mark}`)).toEqual([]);
  });
});

describe('rigor ab with a rig of run-level setup and cleanup', () => {
  const log = mkdtempSync(join(tmpdir(), 'rigor-test-ab-steps-'));
  const stepsRig = `name: steps
title: Run-level setup and cleanup on each side
claim: Each side of rigor ab runs its setup once and its cleanup once.
workload: command
setup: "echo \\"$(pwd) {scratch}\\" >> ${log}/setup; seq 1 100 > {scratch}/input"
cleanup: "ls \\"$RIGOR_SCRATCH\\" >> ${log}/cleanup"
params:
  run: "test -s {scratch}/input"
matrix:
  copy: [a, b]
sampling: { warmup: 1, iterations: 3 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`;
  const stepsRepo = abRepository({ base: 10, head: 11 }, { steps: stepsRig });
  afterAll(() => {
    rmSync(stepsRepo, { recursive: true, force: true });
    rmSync(log, { recursive: true, force: true });
  });
  const lines = (name: string) => readFileSync(join(log, name), 'utf8').split('\n').filter(Boolean);

  it("runs each side's setup once, in its own tree and scratch directory, and its cleanup once at the end", () => {
    const out = join(stepsRepo, 'out-steps');
    const result = rigor(['ab', 'steps', '--base', 'HEAD~1', '--head', 'HEAD', '--rounds', '3', '--out', out, '--quiet'], { cwd: stepsRepo, env: { CI: '' } });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const artifact = onlyArtifact(out);
    for (const cell of [...artifact.cells, ...artifact.ab!.base_cells]) expect([cell.status, cell.metrics.wall_ms!.samples.length]).toEqual(['ok', 3]);
    const setups = lines('setup').map((line) => line.split(' '));
    expect(setups).toHaveLength(2);
    // Each side in its own worktree (cwd), with a scratch directory of its own.
    expect(new Set(setups.map(([cwd]) => cwd)).size).toBe(2);
    expect(new Set(setups.map(([, scratch]) => scratch)).size).toBe(2);
    for (const [, scratch] of setups) expect(scratch).toMatch(/\/rigor-run-\d+-\w{6}$/);
    expect(lines('cleanup')).toEqual(['input', 'input']);
    for (const [, scratch] of setups) expect(existsSync(scratch!)).toBe(false);
  });
});
