/**
 * `rigor run` and what it did not check, through the real CLI on tiny command
 * rigs: a run that measured nothing, a skipped cell a gate names, a failed
 * cell and a missed ratio goal fail in CI (or with --strict) and are a loud
 * warning outside it; a relative gate waits for `rigor gate --baseline`, and a
 * skipped cell no gate names is no failure. (An interrupted run exits 130/143
 * in either mode: test/runner/run/interrupt.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-run-strict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CELLS = {
  colon: '{ program: colon, argv: [sh, -c, ":"] }',
  missing: '{ program: missing, argv: [rigor-no-such-binary-strict] }',
  failing: '{ program: failing, argv: [sh, -c, "exit 3"] }',
};

/** A command rig of the named cells, with gates and ratios as YAML lines. */
function rig(name: string, cells: (keyof typeof CELLS)[], extra: string): string {
  const path = join(dir, `${name}.rig.yaml`);
  writeFileSync(
    path,
    `name: ${name}
title: Strict mode, ${name}
claim: What a run did not check fails in CI.
workload: command
params:
  run: "{argv}"
matrix:
  program: [${cells.join(', ')}]
  include:
${cells.map((cell) => `    - ${CELLS[cell]}`).join('\n')}
sampling: { warmup: 0, iterations: 2 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
${extra}
`,
  );
  return path;
}

let runs = 0;
const run = (rigPath: string, CI: string, ...flags: string[]) => rigor(['run', rigPath, '--out', join(dir, `out-${runs++}`), '--quiet', ...flags], { env: { CI } });

// A ratio of a cell to itself is exactly 1: a goal under 1 is missed, one of 1 is met, whatever the host's speed.
const SELF_RATIO = (max: number) => `ratios:
  - name: colon_over_itself
    of: { metric: wall_ms, where: { program: colon } }
    to: { metric: wall_ms, where: { program: colon } }
    goal: { max: ${max} }`;

const cases = [
  {
    name: 'a run whose every cell was skipped',
    rig: rig('all-skipped', ['missing'], 'gates:\n  - { metric: wall_ms, stat: median, max_ratio: 1.3 }'),
    reason: 'every cell (1) was skipped or failed: this run measured nothing',
  },
  {
    name: 'a skipped cell a gate names',
    rig: rig('named-skipped', ['colon', 'missing'], 'gates:\n  - { metric: wall_ms, stat: median, max: 60000, where: { program: missing } }'),
    reason: 'gate #0 (median wall_ms ≤ 60000) checked nothing: program=missing: candidate cell skipped: needs rigor-no-such-binary-strict',
  },
  {
    name: 'a missed ratio goal',
    rig: rig('goal-missed', ['colon'], SELF_RATIO(0.5)),
    reason: 'ratio goal colon_over_itself ≤ 0.5× missed: ',
    noun: 'GOAL MISSED',
  },
];

describe('rigor run in strict mode', () => {
  it.each(cases)('$name: a loud warning and exit 0 outside CI', ({ rig: rigPath, reason, noun = 'NOT CHECKED' }) => {
    const result = run(rigPath, '');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`!! ${noun} — a warning here; --strict or CI would fail it:\n`);
    expect(result.stdout.replace(/\n!! {4}/g, ' ')).toContain(`!!  - ${reason}`);
  });

  it.each(cases)('$name: exit 1 in CI, with the reason', ({ rig: rigPath, reason, noun = 'NOT CHECKED' }) => {
    const result = run(rigPath, 'true');
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(`!! ${noun} — fails because CI=true; --no-strict makes it a warning:\n`);
    expect(result.stdout.replace(/\n!! {4}/g, ' ')).toContain(`!!  - ${reason}`);
  });

  it('--strict fails outside CI and --no-strict warns in CI; --json keeps the warning off stdout', () => {
    const goal = cases[2]!.rig;
    const strict = run(goal, '', '--strict', '--json');
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).ratios[0].goal_met).toBe(false);
    expect(strict.stderr).toContain('!! GOAL MISSED — fails with --strict:');
    const lenient = run(goal, 'true', '--no-strict');
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('!! GOAL MISSED — a warning with --no-strict; --strict or CI would fail it:');
  });

  it('lists ratio goals with the gates', () => {
    const result = run(cases[2]!.rig, '');
    expect(result.stdout).toMatch(/^gates: ratio goal: 1 missed$/m);
    expect(result.stdout).toMatch(/^ {2}goal missed \(1\) {2}colon_over_itself ≤ 0\.5× — 1\.00×$/m);
  });

  it('passes in CI when a relative gate waits for a baseline, a goal is met and the skipped cell is named by no gate', () => {
    const passing = rig(
      'passing',
      ['colon', 'missing'],
      `gates:\n  - { metric: wall_ms, stat: median, max_ratio: 1.3 }\n  - { metric: wall_ms, stat: median, max: 60000 }\n${SELF_RATIO(1)}`,
    );
    const result = run(passing, 'true');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/NOT CHECKED|MISSED/);
    expect(result.stdout).toMatch(/^gates: 1 pass, 2 skipped, 1 needs a baseline; ratio goal: 1 met$/m);
  });

  it('a failed cell fails the run in either mode, and strict mode names it among what was not checked', () => {
    const failing = rig('failing', ['colon', 'failing'], 'gates:\n  - { metric: wall_ms, stat: median, max: 60000 }');
    for (const CI of ['', 'true']) {
      const result = run(failing, CI);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toContain('!!  - gate #0 (median wall_ms ≤ 60000) did not check program=failing: candidate cell failed:');
    }
  });
});
