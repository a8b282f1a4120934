/** `rigor run --interleave` through the real CLI: cells in shuffled rounds, each sample tagged with its round, the mode recorded. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { roundLine } from '../../../runner/run/execute-interleaved.ts';
import { rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-interleave-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rigPath = join(dir, 'pair.rig.yaml');
writeFileSync(
  rigPath,
  `name: pair
title: Two commands and a missing one, interleaved
claim: The runner measures cells in shuffled rounds.
workload: command
params:
  run: "{argv}"
matrix:
  program: [colon, true-cmd, missing]
  include:
    - { program: colon, argv: [sh, -c, ":"] }
    - { program: true-cmd, argv: ["true"] }
    - { program: missing, argv: [rigor-no-such-binary-xyz] }
sampling: { warmup: 1, iterations: 6 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`,
);

describe('rigor run --interleave', () => {
  it('runs every measurable cell in every round, k per round, and records the order and seed', () => {
    const out = join(dir, 'out');
    const result = rigor(['run', rigPath, '--out', out, '--quiet', '--interleave', '--rounds', '3', '--seed', '11'], { env: { CI: '' } });
    expect(result.code, result.stderr).toBe(0);
    const artifact = JSON.parse(readFileSync(join(out, readdirSync(out)[0]!), 'utf8')) as Artifact;
    expect(artifact.run.mode).toBe('interleaved');
    expect(result.stdout).toContain('— complete, interleaved (3 shuffled rounds, seed 11)');
    expect(artifact.interleave).toMatchObject({ seed: 11, rounds_planned: 3, rounds_done: 3, per_round: { 'program=colon': 2, 'program=true-cmd': 2 } });
    for (const order of artifact.interleave!.order) expect([...order].sort()).toEqual(['program=colon', 'program=true-cmd']);
    const colon = artifact.cells.find((c) => c.id === 'program=colon')!;
    expect(colon.metrics.wall_ms!.samples).toHaveLength(6);
    expect(colon.metrics.wall_ms!.rounds).toEqual([0, 0, 1, 1, 2, 2]);
    expect(artifact.cells.find((c) => c.id === 'program=missing')!.status).toBe('skipped');
  });

  it('refuses --rounds without --interleave', () => {
    const result = rigor(['run', rigPath, '--rounds', '3', '--quiet'], { env: { CI: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--rounds: only with --interleave/);
  });

  it('labels the warmup round and the others', () => {
    expect(roundLine(-1, 20, 0, 4, 'x')).toBe('[warmup round · 1/4] x');
    expect(roundLine(2, 20, 3, 4, 'x')).toBe('[round 3/20 · 4/4] x');
  });
});
