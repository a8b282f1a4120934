/**
 * A rig's run-level setup and cleanup through the real CLI: setup once before
 * the first cell (also with --interleave), every cell reaching the run's
 * scratch directory, cleanup once after the last — also after a failed setup
 * and after Ctrl-C — and the scratch directory removed, or swept by the next
 * run after a SIGKILL.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { CLI, REPO, rigor } from '../../helpers/cli.ts';
import { waitUntil } from '../../helpers/leftovers.ts';
import { runStep } from '../../../runner/run/run-steps.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-run-steps-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A rig whose run setup makes an input in the scratch directory and logs itself in `log`, whose cells read that input. */
function stepsRig(name: string, log: string, extra: { setup?: string; run?: string; iterations?: number } = {}): string {
  mkdirSync(log, { recursive: true });
  const path = join(dir, `${name}.rig.yaml`);
  writeFileSync(
    path,
    `name: ${name}
title: Run-level setup and cleanup
claim: Setup runs once per run, every cell reads what it made, cleanup runs once after.
workload: command
setup: ${JSON.stringify(extra.setup ?? `echo {scratch} >> ${log}/setup; pwd > ${log}/setup-cwd; seq 1 1000 > {scratch}/input`)}
cleanup: "ls \\"$RIGOR_SCRATCH\\" >> ${log}/cleanup"
params:
  run: ${JSON.stringify(extra.run ?? 'test -s {scratch}/input && test -s "$RIGOR_SCRATCH/input"')}
matrix:
  copy: [a, b, c]
sampling: { warmup: 1, iterations: ${extra.iterations ?? 3} }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`,
  );
  return path;
}

/** rigor's temp dirs under `tmp` (tsx keeps its cache there too). */
const rigorDirs = (tmp: string) => readdirSync(tmp).filter((name) => name.startsWith('rigor-'));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

function onlyArtifact(out: string): Artifact {
  const files = readdirSync(out).filter((name) => name.endsWith('.json'));
  expect(files).toHaveLength(1);
  const artifact = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Artifact;
  expect(validatorFor('artifact')(artifact)).toBe(true);
  return artifact;
}

/** The CLI with TMPDIR of its own, so its scratch directories can be counted. */
function run(rigPath: string, out: string, tmp: string, args: string[] = []) {
  mkdirSync(tmp, { recursive: true });
  return rigor(['run', rigPath, '--out', out, '--quiet', ...args], { env: { TMPDIR: tmp, CI: '' } });
}

describe('run-level setup and cleanup', () => {
  it('runs setup once before the first cell, in rigor\'s working directory, cleanup once after the last, and removes the scratch directory', () => {
    const log = join(dir, 'once');
    const tmp = join(dir, 'tmp-once');
    const result = run(stepsRig('once', log), join(dir, 'out-once'), tmp);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const artifact = onlyArtifact(join(dir, 'out-once'));
    expect(artifact.cells.map((cell) => [cell.id, cell.status, cell.metrics.wall_ms!.samples.length])).toEqual([
      ['copy=a', 'ok', 3],
      ['copy=b', 'ok', 3],
      ['copy=c', 'ok', 3],
    ]);
    const [scratch, ...more] = lines(join(log, 'setup'));
    expect(more).toEqual([]);
    expect(scratch).toMatch(new RegExp(`^${tmp}/rigor-run-\\d+-\\w{6}$`));
    expect(lines(join(log, 'setup-cwd'))).toEqual([REPO.replace(/\/$/, '')]);
    // Cleanup ran once, while the scratch directory still held what setup made.
    expect(lines(join(log, 'cleanup'))).toEqual(['input']);
    expect(existsSync(scratch!)).toBe(false);
    expect(rigorDirs(tmp)).toEqual([]);
    // The rig as written, setup and cleanup included, is in the artifact.
    expect(artifact.rig.definition.setup).toContain('{scratch}/input');
  });

  it('runs setup once with --interleave too, however many rounds the cells take', () => {
    const log = join(dir, 'interleaved');
    const result = run(stepsRig('interleaved', log, { iterations: 4 }), join(dir, 'out-interleaved'), join(dir, 'tmp-interleaved'), ['--interleave', '--rounds', '4']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(onlyArtifact(join(dir, 'out-interleaved')).interleave?.rounds_done).toBe(4);
    expect(lines(join(log, 'setup'))).toHaveLength(1);
    expect(lines(join(log, 'cleanup'))).toEqual(['input']);
  });

  it('runs no cell when setup fails, fails the run with the setup\'s stderr, and still cleans up', () => {
    const log = join(dir, 'failing');
    const tmp = join(dir, 'tmp-failing');
    const result = run(stepsRig('failing', log, { setup: 'echo generating >&2; touch {scratch}/partial; exit 3' }), join(dir, 'out-failing'), tmp);
    expect(result.code).toBe(1);
    const artifact = onlyArtifact(join(dir, 'out-failing'));
    expect(artifact.run.status).toBe('failed');
    expect(artifact.run.error).toMatch(/^run setup \(sh -c echo generating >&2; touch \/.*\/partial; exit 3\) exited with code 3; last 20 lines of stderr:\ngenerating$/);
    expect(artifact.cells.map((cell) => [cell.status, cell.reason])).toEqual(Array(3).fill(['skipped', 'the run setup failed before this cell']));
    expect(lines(join(log, 'cleanup'))).toEqual(['partial']);
    expect(rigorDirs(tmp)).toEqual([]);
  });

  it('cleans up after Ctrl-C and removes the scratch directory', async () => {
    const log = join(dir, 'interrupted');
    const tmp = join(dir, 'tmp-interrupted');
    mkdirSync(tmp, { recursive: true });
    const rigPath = stepsRig('interrupted', log, { run: `touch ${log}/ran; sleep 0.1`, iterations: 200 });
    const out = join(dir, 'out-interrupted');
    const child = spawn(process.execPath, [CLI, 'run', rigPath, '--out', out, '--quiet'], { cwd: REPO, env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(await waitUntil(() => existsSync(join(log, 'ran')), 60_000)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(onlyArtifact(out).run.status).toBe('interrupted');
    expect(lines(join(log, 'setup'))).toHaveLength(1);
    expect(lines(join(log, 'cleanup'))).toEqual(['input']);
    expect(rigorDirs(tmp)).toEqual([]);
  });

  it('sweeps the scratch directory a SIGKILLed run left, at the next run', async () => {
    const log = join(dir, 'killed');
    const tmp = join(dir, 'tmp-killed');
    mkdirSync(tmp, { recursive: true });
    const rigPath = stepsRig('killed', log, { run: `touch ${log}/ran; sleep 0.1`, iterations: 200 });
    const child = spawn(process.execPath, [CLI, 'run', rigPath, '--out', join(dir, 'out-killed'), '--quiet'], { cwd: REPO, env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    expect(await waitUntil(() => existsSync(join(log, 'ran')), 60_000)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    const [left] = lines(join(log, 'setup'));
    expect(existsSync(left!)).toBe(true);
    expect(lines(join(log, 'cleanup'))).toEqual([]);
    const next = run(stepsRig('next', join(dir, 'next')), join(dir, 'out-next'), tmp);
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(left!)).toBe(false);
    expect(rigorDirs(tmp)).toEqual([]);
  });
});

describe('runStep', () => {
  it('runs a string under sh -c and an argv as is, with {scratch} filled in and {{ a literal brace', () => {
    expect(runStep({ setup: 'make {scratch}/in {{x}' }, 'setup', '/tmp/s')).toEqual(['sh', '-c', 'make /tmp/s/in {x}']);
    expect(runStep({ cleanup: ['rm', '-r', '{scratch}/in', '${HOME}'] }, 'cleanup', '/tmp/s')).toEqual(['rm', '-r', '/tmp/s/in', '${HOME}']);
    expect(runStep({}, 'setup', '/tmp/s')).toBeUndefined();
  });
});
