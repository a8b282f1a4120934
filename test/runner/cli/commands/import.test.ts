/** The real hyperfine → rigor import → ajv → rigor export → hyperfine's shape again, through the real CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../../../runner/artifact/schema.ts';
import type { HyperfineExport } from '../../../../runner/export/hyperfine-format.ts';
import { collectGit } from '../../../../runner/host/git.ts';
import { REPO, rigor } from '../../../helpers/cli.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Equal but for the last bits a ×1000 then ÷1000 may move. */
function expectSameSeconds(actual: number | null, expected: number | null): void {
  if (expected === null) return expect(actual).toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-12);
}

describe('rigor import hyperfine, then export --format hyperfine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-hyperfine-'));
  const original = join(dir, 'hyperfine.json');
  const measured = spawnSync('hyperfine', ['-N', '--runs', '5', 'true', 'sh -c :', '--export-json', original], { encoding: 'utf8' });

  it('imports a real hyperfine export as a schema-valid artifact marked as imported', () => {
    expect(measured.status, measured.stderr).toBe(0);
    const imported = rigor(['import', 'hyperfine', original, '--out', join(dir, 'results')]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 2 results from /);
    const path = resolve(REPO, imported.stdout.match(/^artifact: (.+)$/m)![1]!);
    const artifact: Artifact = JSON.parse(readFileSync(path, 'utf8'));

    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(REPO, 'schemas/artifact.schema.json'), 'utf8')));
    expect(validate(artifact), JSON.stringify(validate.errors)).toBe(true);

    expect(artifact.rig.name).toBe('imported-hyperfine');
    expect(artifact.run.imported_from).toBe(original);
    expect(artifact.run.command_line).toEqual(['rigor', 'import', 'hyperfine', original, '--out', join(dir, 'results')]);
    expect(artifact.git.commit).toBe(collectGit(REPO).commit);
    expect(artifact.host.tools.hyperfine).toMatch(/^1\./);
    // never boots a probe guest: a verdict cached this boot, or none
    expect(artifact.host.virtualization.kvm.cached || artifact.host.virtualization.kvm.status === 'unprobed').toBe(true);
    expect(artifact.cells.map((c) => c.id)).toEqual(['command=true', 'command=sh -c :']);

    const exported = join(dir, 'back.json');
    const back = rigor(['export', path, '--format', 'hyperfine', '--out', exported]);
    expect(back.code, back.stderr).toBe(0);
    const before: HyperfineExport = JSON.parse(readFileSync(original, 'utf8'));
    const after: HyperfineExport = JSON.parse(readFileSync(exported, 'utf8'));
    expect(after.results.map((r) => Object.keys(r))).toEqual(before.results.map((r) => Object.keys(r)));
    before.results.forEach((b, i) => {
      const a = after.results[i]!;
      expect(a.command).toBe(b.command);
      for (const key of ['mean', 'stddev', 'median', 'min', 'max'] as const) expectSameSeconds(a[key], b[key]);
      a.times.forEach((t, k) => expectSameSeconds(t, b.times[k]!));
      expect([a.user, a.system, a.exit_codes]).toEqual([b.user, b.system, b.exit_codes]);
    });
    // user and system as metrics too: hyperfine's means, one value each (it keeps no per-run CPU times)
    artifact.cells.forEach((cell, i) => {
      expectSameSeconds(cell.metrics.user_mean_ms!.samples[0]! / 1000, before.results[i]!.user);
      expectSameSeconds(cell.metrics.sys_mean_ms!.samples[0]! / 1000, before.results[i]!.system);
    });

    const bmf = rigor(['export', path, '--format', 'bmf']);
    expect(bmf.code, bmf.stderr).toBe(0);
    const value = JSON.parse(bmf.stdout)['imported-hyperfine/command=true'].wall_ms.value;
    expectSameSeconds(value / 1000, before.results[0]!.median);
  });

  it('refuses an --out that is a file before writing anything, naming it (exit 2)', () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const result = rigor(['import', 'hyperfine', original, '--out', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`rigor: ${file}: cannot write artifacts there: it is a file, not a folder\n`);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('refuses a file that is not a hyperfine export, naming file and path (exit 2)', () => {
    const result = rigor(['import', 'hyperfine', join(REPO, 'package.json'), '--out', join(dir, 'never')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(REPO, 'package.json')}: results: expected an array of results, found nothing`);
  });
});

/** The artifact a rigor command wrote, by the path it printed. */
function artifactAt(stdout: string): { path: string; artifact: Artifact } {
  const path = resolve(REPO, stdout.match(/^artifact: (.+)$/m)![1]!);
  return { path, artifact: JSON.parse(readFileSync(path, 'utf8')) };
}

describe('rigor import hyperfine --rig: onto the cells of a rig that runs the same commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-onto-'));
  const rigPath = join(dir, 'levels.rig.yaml');
  writeFileSync(
    rigPath,
    `name: levels
title: gzip levels
claim: A higher level costs more time.
workload: command
params:
  run: "{argv}"
matrix:
  level: [1, 9]
  include:
    - { level: 1, argv: [gzip, "-1", -c, /etc/services] }
    - { level: 9, argv: [gzip, "-9", -c, /etc/services] }
sampling: { warmup: 1, iterations: 5 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
  user_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped (rusage user)" }
  sys_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped (rusage system)" }
`,
  );
  const original = join(dir, 'hyperfine.json');
  const measured = spawnSync('hyperfine', ['-N', '--runs', '5', 'gzip -9 -c /etc/services', 'gzip -1 -c /etc/services', '--export-json', original], { encoding: 'utf8' });
  const results = join(dir, 'results');

  it("files a real hyperfine export under the rig's name and cell ids, so compare matches it cell for cell against a run of the rig", () => {
    expect(measured.status, measured.stderr).toBe(0);
    const imported = rigor(['import', 'hyperfine', original, '--rig', rigPath, '--out', results]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 2 results from .* onto .*levels\.rig\.yaml$/m);
    expect(imported.stdout).toMatch(/^ {2}level=9 <- "gzip -9 -c \/etc\/services": 5 runs; user .*, system .* \(hyperfine's means\)$/m);
    const { path, artifact } = artifactAt(imported.stdout);
    expect(artifact.rig.name).toBe('levels');
    expect(artifact.cells.map((cell) => cell.id)).toEqual(['level=9', 'level=1']);
    const before: HyperfineExport = JSON.parse(readFileSync(original, 'utf8'));
    artifact.cells[0]!.metrics.wall_ms!.samples.forEach((ms, k) => expectSameSeconds(ms / 1000, before.results[0]!.times[k]!));

    const run = rigor(['run', rigPath, '--out', results, '--quiet', '--iterations', '3']);
    expect(run.code, run.stderr).toBe(0);
    const compared = rigor(['compare', path, artifactAt(run.stdout).path]);
    expect(compared.code, compared.stderr).toBe(0);
    // a row per cell with both sides' medians and their ratio
    for (const cell of ['level=1', 'level=9']) expect(compared.stdout).toMatch(new RegExp(`^${cell}\\s+wall_ms\\b.* ms .* ms +[\\d.]+×`, 'm'));
    expect(compared.stdout).not.toMatch(/wall_ms.*only-in/);
  });

  it("gives a rig run's user and system time to hyperfine's shape and back: export, then import onto the rig", () => {
    const run = rigor(['run', rigPath, '--out', join(dir, 'run'), '--quiet', '--iterations', '3']);
    expect(run.code, run.stderr).toBe(0);
    const { path, artifact: measuredRun } = artifactAt(run.stdout);
    const exported = join(dir, 'exported.json');
    const out = rigor(['export', path, '--format', 'hyperfine', '--out', exported]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toBe('');
    const hyperfine: HyperfineExport = JSON.parse(readFileSync(exported, 'utf8'));
    // one result per cell, named by its command: no result made of user_ms, no null system
    expect(hyperfine.results.map((r) => r.command)).toEqual(['gzip -1 -c /etc/services', 'gzip -9 -c /etc/services']);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    hyperfine.results.forEach((result, i) => {
      const cell = measuredRun.cells[i]!;
      expectSameSeconds(result.user, mean(cell.metrics.user_ms!.samples) / 1000);
      expectSameSeconds(result.system, mean(cell.metrics.sys_ms!.samples) / 1000);
    });

    const back = rigor(['import', 'hyperfine', exported, '--rig', rigPath, '--out', join(dir, 'back')]);
    expect(back.code, back.stderr).toBe(0);
    const { artifact } = artifactAt(back.stdout);
    expect(artifact.cells.map((cell) => cell.id)).toEqual(measuredRun.cells.map((cell) => cell.id));
    artifact.cells.forEach((cell, i) => {
      const from = measuredRun.cells[i]!;
      cell.metrics.wall_ms!.samples.forEach((ms, k) => expectSameSeconds(ms, from.metrics.wall_ms!.samples[k]!));
      expectSameSeconds(cell.metrics.user_mean_ms!.samples[0]!, mean(from.metrics.user_ms!.samples));
      expectSameSeconds(cell.metrics.sys_mean_ms!.samples[0]!, mean(from.metrics.sys_ms!.samples));
    });
  });

  it('refuses a result no cell of the rig runs, naming it and the commands the rig runs (exit 2, nothing written)', () => {
    const other = join(dir, 'other.json');
    const made = spawnSync('hyperfine', ['-N', '--runs', '2', 'gzip -6 -c /etc/services', '--export-json', other], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const out = join(dir, 'refused');
    const result = rigor(['import', 'hyperfine', other, '--rig', rigPath, '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`rigor: ${other}: results[0].command "gzip -6 -c /etc/services": expected the command of a cell of ${rigPath}, found none that runs it; its cells run:\n  level=1: "gzip -1 -c /etc/services"\n  level=9: "gzip -9 -c /etc/services"`);
    expect(() => readdirSync(out)).toThrow();
  });
});

