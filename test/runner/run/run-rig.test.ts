/** A small rig end to end through the real CLI: real processes, real files, artifact checked with ajv. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rigPath = join(dir, 'tiny.rig.yaml');
writeFileSync(
  rigPath,
  `name: tiny
title: Tiny end-to-end rig
claim: The runner measures, skips what is missing, and writes a valid artifact.
workload: command
params:
  run: "{argv}"
matrix:
  program: [shell-colon, missing-tool]
  include:
    - { program: shell-colon, argv: [sh, -c, ":"] }
    - { program: missing-tool, argv: [rigor-no-such-binary-xyz] }
sampling: { warmup: 1, iterations: 7 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
gates:
  - { metric: wall_ms, stat: p95, max: 5000, where: { program: shell-colon } }
`,
);

describe('rigor run (end to end)', () => {
  const out = join(dir, 'out');
  const result = rigor(['run', rigPath, '--out', out, '--quiet']);
  const files = readdirSync(out).filter((f) => f.endsWith('.json'));
  const artifact = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Artifact;

  it('exits 0 and prints a row per cell, the skip reason once, and the artifact path', () => {
    expect(result.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^program\s+n\s+wall_ms$/m);
    expect(result.stdout).toMatch(/^shell-colon\s+7\s+\d/m);
    expect(result.stdout).toMatch(/^missing-tool\s+skipped \[1\]/m);
    const reason = artifact.cells.find((c) => c.status === 'skipped')!.reason!;
    expect(result.stdout.split(reason)).toHaveLength(2);
    expect(result.stdout).toMatch(/pass \(1\)\s+#0 p95 wall_ms ≤ 5000 — program=shell-colon/);
    expect(result.stdout).toMatch(/artifact: .*\.json/);
    // A path is as long as the user's directory makes it; the rest of each line must fit 120 columns.
    for (const line of result.stdout.split('\n')) expect(line.replaceAll(dir, '<dir>').length).toBeLessThanOrEqual(120);
  });

  it('says nothing of KVM, qemu or TCG: a command rig starts no guest (host warnings belong to rigs that use what they warn about)', () => {
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/kvm|qemu|tcg/i);
    expect(artifact.host.warnings.filter((warning) => /kvm|qemu|tcg/i.test(warning))).toEqual([]);
  });

  it('shows progress within a cell in a log (stderr not a terminal), from the batch as it runs', () => {
    // 12 runs of 0.25 s in one batch of the native helper: at least 3 s, past the first log line at 2 s
    const slow = join(dir, 'slow.rig.yaml');
    writeFileSync(slow, readFileSync(rigPath, 'utf8').replace('name: tiny', 'name: slow').replace('[sh, -c, ":"]', '[sleep, "0.25"]').replace('warmup: 1, iterations: 7', 'warmup: 0, iterations: 12'));
    const run = rigor(['run', slow, '--out', join(dir, 'out-slow'), '--set', 'program=shell-colon']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n');
    const during = lines.filter((line) => /^\[cell 1\/1\] program=shell-colon {2}sample (\d+)\/12 {2}~\d+s left$/.test(line));
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(lines.indexOf(during[0]!)).toBeLessThan(lines.findIndex((line) => line.startsWith('[cell 1/1] program=shell-colon: wall_ms')));
  });

  it('--verbose prints the full table: a row per cell and metric', () => {
    const verbose = rigor(['run', rigPath, '--out', join(dir, 'out-verbose'), '--quiet', '--iterations', '2', '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout).toMatch(/cell\s+metric\s+n\s+median\s+p95\s+median 95% CI/);
    expect(verbose.stdout).toContain('program=missing-tool: skipped:');
  });

  it('writes exactly one artifact, valid against schemas/artifact.schema.json, and no temp file', () => {
    expect(readdirSync(out)).toEqual(files);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{6}Z_[0-9a-f]{7}_[a-z0-9-]+\.json$|^\d{8}T\d{6}Z_nocommit_[a-z0-9-]+\.json$/);
    const validate = validatorFor('artifact');
    expect(validate(artifact), JSON.stringify(validate.errors)).toBe(true);
  });

  it('keeps every raw sample and summarises them', () => {
    const cell = artifact.cells.find((c) => c.id === 'program=shell-colon')!;
    expect(cell.status).toBe('ok');
    const metric = cell.metrics.wall_ms!;
    expect(metric.samples).toHaveLength(7);
    expect(metric.samples.every((s) => s > 0 && s < 5000)).toBe(true);
    expect(metric.summary?.n).toBe(7);
    expect(metric.clock).toBe('fork requested -> child reaped');
  });

  it('records a cell whose binary is missing as skipped with the reason, never dropped', () => {
    const cell = artifact.cells.find((c) => c.id === 'program=missing-tool')!;
    expect(cell.status).toBe('skipped');
    expect(cell.reason).toContain('rigor-no-such-binary-xyz');
    expect(cell.metrics.wall_ms!.samples).toEqual([]);
  });

  it('records run, rig, host and git metadata', () => {
    expect(artifact.run.status).toBe('complete');
    expect(artifact.run.command_line.slice(0, 2)).toEqual(['rigor', 'run']);
    expect(artifact.rig.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(artifact.rig.definition.sampling.iterations).toBe(7);
    expect(artifact.host.cpu.logical_cpus).toBeGreaterThan(0);
    expect(['usable', 'absent', 'present-but-unusable', 'unprobed']).toContain(artifact.host.virtualization.kvm.status);
    expect(artifact.host.tools.sh === null || typeof artifact.host.tools.sh === 'string').toBe(true);
  });

  it('evaluates the absolute gate on the matching cell only', () => {
    expect(artifact.gates).toHaveLength(1);
    expect(artifact.gates[0]).toMatchObject({ kind: 'absolute', cell: 'program=shell-colon', verdict: 'pass' });
  });

  it('applies --iterations and --set', () => {
    const out2 = join(dir, 'out2');
    const second = rigor(['run', rigPath, '--out', out2, '--quiet', '--iterations', '3', '--set', 'program=shell-colon']);
    expect(second.code, second.stderr).toBe(0);
    const [file] = readdirSync(out2);
    const a = JSON.parse(readFileSync(join(out2, file!), 'utf8')) as Artifact;
    expect(a.cells.map((c) => c.id)).toEqual(['program=shell-colon']);
    expect(a.cells[0]!.metrics.wall_ms!.samples).toHaveLength(3);
    expect(a.run.overrides).toMatchObject({ iterations: 3 });
  });

  it('takes a --set value as the rig typed it: startup\'s program "true", not the boolean', () => {
    const out3 = join(dir, 'out3');
    const run = rigor(['run', 'startup', '--out', out3, '--quiet', '--iterations', '2', '--set', 'program=true', '--set', 'cache=warm']);
    expect(run.code, run.stderr).toBe(0);
    const [file] = readdirSync(out3);
    const a = JSON.parse(readFileSync(join(out3, file!), 'utf8')) as Artifact;
    expect(a.run.overrides).toMatchObject({ program: 'true', cache: 'warm' });
    expect(a.cells.map((c) => [c.id, c.status, c.params.program, c.params.argv])).toEqual([['program=true,cache=warm', 'ok', 'true', ['true']]]);
    expect(a.cells[0]!.facts?.program).toMatchObject({ argv0: 'true', exec_path: expect.stringMatching(/^\/.*\/true$/) });
  });
});

describe('rigor run with bad input', () => {
  it('names the file, line and field of a rig mistake and exits 2 without writing anything', () => {
    const bad = join(dir, 'bad.rig.yaml');
    writeFileSync(bad, readFileSync(rigPath, 'utf8').replace('name: tiny', 'name: bad').replace('iterations: 7', 'iterations: 0'));
    const out = join(dir, 'bad-out');
    const result = rigor(['run', bad, '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.rig\.yaml:\d+:\d+: sampling\.iterations/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(() => readdirSync(out)).toThrow();
  });

  it('says which rigs exist when the name is unknown', () => {
    const result = rigor(['run', 'no-such-rig']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('startup');
  });

  it('rejects --iterations 0', () => {
    const result = rigor(['run', rigPath, '--iterations', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--iterations');
  });
});
