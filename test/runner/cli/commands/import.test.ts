/** The real hyperfine → rigor import → ajv → rigor export → hyperfine's shape again, through the real CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const path = join(REPO, imported.stdout.match(/^artifact: (.+)$/m)![1]!);
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

    const bmf = rigor(['export', path, '--format', 'bmf']);
    expect(bmf.code, bmf.stderr).toBe(0);
    const value = JSON.parse(bmf.stdout)['imported-hyperfine/command=true'].wall_ms.value;
    expectSameSeconds(value / 1000, before.results[0]!.median);
  });

  it('refuses a file that is not a hyperfine export, naming file and path (exit 2)', () => {
    const result = rigor(['import', 'hyperfine', join(REPO, 'package.json'), '--out', join(dir, 'never')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(REPO, 'package.json')}: results: expected an array of results, found nothing`);
  });
});
