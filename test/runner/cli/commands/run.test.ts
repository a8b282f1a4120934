/**
 * `rigor run --trial`, through the real CLI in a project of its own: a trial
 * run says where its artifact went, keeps it out of results/<rig>/ (or marks
 * it when --out puts it there), and `rigor gate <rig> --baseline <rig>` never
 * takes it; a run with fewer iterations than the rig asks lands in results/
 * and says that a rig name skips it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArtifact, lognormalSamples, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { rigor } from '../../../helpers/cli.ts';

const RIG = `name: gz
title: A command rig for trial runs
claim: Trial runs never become the baseline.
workload: command
params:
  run: [sh, -c, ":"]
matrix:
  level: [1]
sampling: { warmup: 0, iterations: 4 }
metrics:
  time_ms: { unit: ms, better: lower, clock: "spawn() called -> child exited" }
gates:
  - { metric: time_ms, stat: median, max_ratio: 1.2 }
`;

describe('rigor run --trial', () => {
  const project = mkdtempSync(join(tmpdir(), 'rigor-trial-project-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'rigs'));
  writeFileSync(join(project, 'rigs', 'gz.rig.yaml'), RIG);
  // Two complete runs already in results/gz/, as a user would have them.
  const run = (median: number, seed: number, day: number) =>
    buildArtifact({
      rig: 'gz',
      gates: [{ metric: 'time_ms', stat: 'median', max_ratio: 1.2 }],
      startedAt: `2025-01-0${day}T00:00:00.000Z`,
      cells: [{ params: { level: 1 }, samples: { time_ms: lognormalSamples(20, median, 0.02, seed) } }],
    });
  // As the CLI names them, run in the project.
  const older = relative(project, writeArtifactFile(join(project, 'results'), run(10, 1, 1)));
  const newer = relative(project, writeArtifactFile(join(project, 'results'), run(10, 2, 2)));
  const inResults = () => readdirSync(join(project, 'results', 'gz')).sort();
  const gate = () => rigor(['gate', 'gz', '--baseline', 'gz', '--json', '--no-strict'], { cwd: project });

  it('writes to a temp directory, says so, and leaves results/ and the baseline alone', () => {
    const before = inResults();
    const result = rigor(['run', 'gz', '--trial', '--iterations', '2', '--quiet', '--no-strict'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const path = /^artifact: (\S+)$/m.exec(result.stdout)?.[1];
    expect(path).toMatch(new RegExp(`^${tmpdir()}/rigor-trial-[^/]+/\\d{8}T\\d{6}Z_\\w+_[^/]+\\.json$`));
    expect(result.stdout).toContain(
      `trial run: written to a temp directory, not results/gz/, and marked run.trial, so \`rigor compare/gate/export gz\` never take it for the rig's newest run; judge it with \`rigor gate ${path} --baseline gz\``,
    );
    expect(JSON.parse(readFileSync(path!, 'utf8')).run).toMatchObject({ trial: true, overrides: { iterations: 2 } });
    expect(inResults()).toEqual(before);
    const judged = gate();
    expect(JSON.parse(judged.stdout)).toMatchObject({ candidate: newer, baseline: older });
    // and the trial is judged against the rig's newest complete run, as the note says
    const trial = rigor(['gate', path!, '--baseline', 'gz', '--json', '--no-strict'], { cwd: project });
    expect(JSON.parse(trial.stdout)).toMatchObject({ candidate: path, baseline: newer });
  });

  it('marks a trial that --out puts in results/, and a rig name passes over it, saying so', () => {
    const result = rigor(['run', 'gz', '--trial', '--out', join('results', 'gz'), '--quiet', '--no-strict'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const path = /^artifact: (\S+)$/m.exec(result.stdout)![1]!;
    expect(existsSync(join(project, path))).toBe(true);
    expect(result.stdout).toContain('trial run: marked run.trial, so `rigor compare/gate/export gz` never take it');
    const judged = gate();
    expect(JSON.parse(judged.stdout)).toMatchObject({ candidate: newer, baseline: older });
    expect(judged.stderr).toContain(`rigor gate: skipped ${path}: a trial run (rigor run --trial) (name the file, or --include-incomplete, to use it)`);
  });

  it('lands a run with fewer iterations in results/, and says a rig name skips it', () => {
    const result = rigor(['run', 'gz', '--iterations', '2', '--quiet', '--no-strict'], { cwd: project });
    expect(result.code, result.stderr).toBe(0);
    const path = /^artifact: (\S+)$/m.exec(result.stdout)![1]!;
    expect(result.stdout).toContain(
      "note: `rigor compare/gate/export gz` skip this run (--iterations 2: fewer samples than the rig's 4); name the file to use it. For try-outs, rigor run --trial keeps them out of results/gz/.",
    );
    const judged = gate();
    expect(JSON.parse(judged.stdout)).toMatchObject({ candidate: newer, baseline: older });
    expect(judged.stderr).toContain(`rigor gate: skipped ${path}: --iterations 2: fewer samples than the rig's 4`);
    const included = rigor(['gate', 'gz', '--baseline', 'gz', '--json', '--no-strict', '--include-incomplete'], { cwd: project });
    expect(JSON.parse(included.stdout).candidate).toBe(path);
  });
});
