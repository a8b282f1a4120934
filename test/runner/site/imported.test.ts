/**
 * The site's pages for imported artifacts, from a real hyperfine export: an
 * import of its own has no rig file and no task to offer, and says where it
 * came from; an import mapped onto a rig sits with the rig's runs and says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { artifactFromHyperfine, parseHyperfineExport, type ImportContext } from '../../../runner/export/from-hyperfine.ts';
import { commandCells, mapOntoCells } from '../../../runner/export/onto-rig.ts';
import type { ArtifactInput } from '../../../runner/site/model/artifact-ref.ts';
import { buildSiteModel, type SiteModel } from '../../../runner/site/model/site.ts';
import { renderPages } from '../../../runner/site/render/pages.ts';
import { loadTemplates } from '../../../runner/site/render/templates.ts';
import { rigPagePath } from '../../../runner/site/render/links.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';
import { rigInput } from './fixtures.ts';

const RIG_YAML = `name: levels
title: gzip levels
claim: A higher level costs more time.
workload: command
params:
  run: "gzip -{level} -c /etc/services"
matrix:
  level: [1, 9]
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`;

function render(model: SiteModel, artifacts: ArtifactInput[]): Map<string, string> {
  const texts = new Map(artifacts.map((input) => [input.path, JSON.stringify(input.artifact)]));
  const pages = renderPages(model, loadTemplates(), { rigs: new Map(), histories: new Map() }, texts);
  return new Map(pages.map((page) => [page.path, page.content]));
}

describe('site pages of imported artifacts', () => {
  let own: Artifact;
  let onto: Artifact;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-site-import-'));
    const file = join(dir, 'bench.json');
    const made = spawnSync('hyperfine', ['-N', '--runs', '3', 'gzip -1 -c /etc/services', 'gzip -9 -c /etc/services', '--export-json', file], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const results = parseHyperfineExport(JSON.parse(readFileSync(file, 'utf8')), 'bench.json');
    const template = buildArtifact({ cells: [] });
    const ctx: ImportContext = {
      file: 'bench.json',
      sha256: 'b'.repeat(64),
      rig: 'imported-hyperfine',
      measuredAt: '2025-03-01T00:00:00.000Z',
      runId: 'import',
      commandLine: ['rigor', 'import', 'hyperfine', 'bench.json'],
      host: template.host,
      git: template.git,
    };
    own = artifactFromHyperfine(results, ctx);
    const { rig, sha256 } = rigInput(RIG_YAML, 'levels').loaded as { rig: never; sha256: string };
    const mapped = mapOntoCells(results, commandCells(rig), 'bench.json', 'rigs/levels.rig.yaml');
    onto = artifactFromHyperfine(results, { ...ctx, measuredAt: '2025-03-02T00:00:00.000Z' }, { rig, path: 'rigs/levels.rig.yaml', sha256, overrides: {}, wall: 'wall_ms', mapped });
  });

  it('gives an import of its own no rig file and no mise task, and names the file it came from', () => {
    const artifacts = [{ path: 'results/imported-hyperfine/1.json', artifact: own }];
    const model = buildSiteModel({ rigs: [], artifacts, problems: [], commitOrder: [] });
    const page = model.rigs.find((rig) => rig.name === 'imported-hyperfine')!;
    expect(page).toMatchObject({ task: null, importedFrom: ['bench.json'], rigFile: null });
    expect(page.newest?.importedFrom).toBe('bench.json');
    expect(model.index.rigs[0]).toMatchObject({ name: 'imported-hyperfine', importedFrom: ['bench.json'] });

    const html = render(model, artifacts);
    const rigHtml = html.get(rigPagePath('imported-hyperfine'))!;
    expect(rigHtml).toContain('Imported from <code>bench.json</code>: measured by another tool, no rig file');
    expect(rigHtml).not.toMatch(/mise run|rig\.yaml no longer exists|not captured yet/);
    const index = html.get('index.html')!;
    expect(index).toContain('Imported from <code>bench.json</code>, not measured by rigor; no rig file.');
    expect(index).not.toMatch(/mise run bench:imported-hyperfine|No rig file in rigs\/ any more/);
  });

  it("shows an import mapped onto a rig with the rig's runs, its cells in the rig's matrix, and says it was imported", () => {
    const run = buildArtifact({
      rig: 'levels',
      startedAt: '2025-03-01T00:00:00.000Z',
      metrics: { wall_ms: { unit: 'ms', better: 'lower', clock: 'fork requested -> child reaped' } },
      cells: [{ params: { level: 1 }, samples: { wall_ms: [1, 2, 3] } }, { params: { level: 9 }, samples: { wall_ms: [2, 3, 4] } }],
    });
    const artifacts = [
      { path: 'results/levels/run.json', artifact: run },
      { path: 'results/levels/import.json', artifact: onto },
    ];
    const model = buildSiteModel({ rigs: [rigInput(RIG_YAML, 'levels')], artifacts, problems: [], commitOrder: [] });
    const page = model.rigs.find((rig) => rig.name === 'levels')!;
    expect(page).toMatchObject({ task: 'mise run bench:levels', importedFrom: null, rigChanged: false });
    expect(page.newest).toMatchObject({ path: 'results/levels/import.json', importedFrom: 'bench.json' });
    expect(page.matrix!.rows.map((row) => [row.cell, row.note])).toEqual([
      ['level=1', null],
      ['level=9', null],
    ]);
    expect(model.compares.map((compare) => compare.rig)).toEqual(['levels']);
    const rigHtml = render(model, artifacts).get(rigPagePath('levels'))!;
    expect(rigHtml).toContain("This artifact was imported from <code>bench.json</code>: another tool measured the rig's commands");
  });
});
