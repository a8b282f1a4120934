/**
 * Published figures on a rig's page (runner/site/model/published.ts and the
 * rig template): each beside our value of the same statistic in the newest
 * artifact, marked as published by its source and not measured here, shown
 * before anything is measured, and kept out of gates and ratios.
 */
import { describe, expect, it } from 'vitest';
import { assertValidArtifact } from '../../../runner/artifact/validate.ts';
import type { ArtifactInput } from '../../../runner/site/model/artifact-ref.ts';
import { sourceLabel } from '../../../runner/site/model/published.ts';
import { buildSiteModel, type SiteModel } from '../../../runner/site/model/site.ts';
import { rigPagePath } from '../../../runner/site/render/links.ts';
import { renderPages } from '../../../runner/site/render/pages.ts';
import { loadTemplates } from '../../../runner/site/render/templates.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';
import { rigInput } from './fixtures.ts';

const RIG_YAML = `name: engines
title: Engine run --rm
claim: docker and podman run --rm, beside what another project published.
workload: command
params: { run: "true" }
matrix:
  engine: [docker, podman]
metrics:
  run_ms: { unit: ms, better: lower, clock: "spawn() called -> child exited" }
gates:
  - { metric: run_ms, stat: median, max: 5000 }
published:
  - publisher: elsewhere
    source: https://example.org/benchmarks.md
    date: 2026-01-20
    host: Linux (AMD EPYC)
    measures: "tool run -- echo hello, end to end"
    metric: run_ms
    where: { engine: docker }
    value: 350
    unit: ms
    as_written: "~350ms"
    note: through the publisher's own CLI
  - publisher: elsewhere
    source: owner/repo/BENCHMARK.md
    host: Linux (AMD EPYC)
    measures: "tool run -- echo hello, p95 of 100"
    metric: run_ms
    where: { engine: podman }
    stat: p95
    value: 0.31
    unit: s
`;

const METRICS = { run_ms: { unit: 'ms', better: 'lower' as const, clock: 'spawn() called -> child exited' } };

function measured(): ArtifactInput {
  const artifact = buildArtifact({
    rig: 'engines',
    startedAt: '2026-12-05T06:00:00.000Z',
    metrics: METRICS,
    gates: [{ metric: 'run_ms', stat: 'median', max: 5000 }],
    cells: [
      { params: { engine: 'docker' }, samples: { run_ms: [200, 210, 220, 230, 240] } },
      { params: { engine: 'podman' }, status: 'skipped', reason: 'backend podman unavailable: podman not on PATH' },
    ],
  });
  return { path: 'results/engines/20261205T060000Z_abc1234_host.json', artifact };
}

function render(model: SiteModel, artifacts: ArtifactInput[]): string {
  const texts = new Map(artifacts.map((input) => [input.path, JSON.stringify(input.artifact)]));
  const pages = renderPages(model, loadTemplates(), { rigs: new Map(), histories: new Map() }, texts);
  return pages.find((page) => page.path === rigPagePath('engines'))!.content;
}

describe('published figures on the rig page', () => {
  it('stand beside the same statistic of ours, linked into the newest artifact, or say why there is none', () => {
    const input = measured();
    const model = buildSiteModel({ rigs: [rigInput(RIG_YAML, 'engines')], artifacts: [input], problems: [], commitOrder: [] });
    const [docker, podman] = model.rigs[0]!.published;
    expect(docker).toMatchObject({
      publisher: 'elsewhere',
      source: { text: 'https://example.org/benchmarks.md', label: 'https://example.org/benchmarks.md', href: 'https://example.org/benchmarks.md' },
      cell: 'engine=docker',
      stat: 'median',
      sourceDate: '2026-01-20',
      figure: { value: 350, unit: 'ms', asWritten: '~350ms' },
      ours: { artifactPath: input.path, pointer: '/cells/0/metrics/run_ms/summary/median', value: 220 },
      oursMissing: null,
    });
    expect(podman).toMatchObject({
      source: { text: 'owner/repo/BENCHMARK.md', label: 'owner/repo/BENCHMARK.md', href: null },
      cell: 'engine=podman',
      stat: 'p95',
      figure: { value: 0.31, unit: 's', asWritten: null },
      ours: null,
      oursMissing: 'skipped: backend podman unavailable: podman not on PATH',
    });

    const html = render(model, [input]);
    expect(html).toContain('<h2>Published elsewhere, not measured here</h2>');
    expect(html.match(/published by elsewhere, not measured here<\/span>/g)).toHaveLength(2);
    expect(html).toContain('<span class="published-figure" title="published by elsewhere, not measured here">~350ms</span>');
    expect(html).toContain('0.31 s');
    expect(html).toContain('<a href="https://example.org/benchmarks.md" title="https://example.org/benchmarks.md">https://example.org/benchmarks.md</a>');
    expect(html).toContain('data-pointer="/cells/0/metrics/run_ms/summary/median" data-value="220"');
    expect(html).toContain('skipped: backend podman unavailable: podman not on PATH');
  });

  it('label a long URL by its host and file, keeping the whole URL as the link', () => {
    const url = 'https://github.com/thrashr888/agentkernel/blob/dc86052f4077f9dac8586148d5e668e98150d9b1/docs/benchmarks.md';
    expect(sourceLabel(url)).toBe('github.com/…/benchmarks.md');
    expect(sourceLabel('owner/repo/a/very/long/path/that/is/not/a/url/at/all/BENCHMARK.md')).toBe('owner/repo/a/very/long/path/that/is/not/a/url/at/all/BENCHMARK.md');
  });

  it('are never judged: gates and ratios read only the cells', () => {
    const input = measured();
    const model = buildSiteModel({ rigs: [rigInput(RIG_YAML, 'engines')], artifacts: [input], problems: [], commitOrder: [] });
    const page = model.rigs[0]!;
    // podman's cell was skipped: its gate has no value, though a figure was published for it.
    expect(page.gates.map((gate) => [gate.cell, gate.verdict, gate.value?.value ?? null])).toEqual([
      ['engine=docker', 'pass', 220],
      ['engine=podman', 'skipped', null],
    ]);
    expect(page.ratios).toEqual([]);
  });

  it('show before the rig is measured, with ours not measured yet', () => {
    const model = buildSiteModel({ rigs: [rigInput(RIG_YAML, 'engines')], artifacts: [], problems: [], commitOrder: [] });
    expect(model.rigs[0]!.published.map((row) => row.oursMissing)).toEqual([
      'not measured yet: the rig has no artifact',
      'not measured yet: the rig has no artifact',
    ]);
    const html = render(model, []);
    expect(html).toContain('<h2>Published elsewhere, not measured here</h2>');
    expect(html).toContain('not captured yet');
  });

  it('leave a rig without them as it was', () => {
    const plain = RIG_YAML.slice(0, RIG_YAML.indexOf('published:'));
    const model = buildSiteModel({ rigs: [rigInput(plain, 'engines')], artifacts: [measured()], problems: [], commitOrder: [] });
    expect(model.rigs[0]!.published).toEqual([]);
    expect(render(model, [measured()])).not.toContain('not measured here');
  });

  it('travel in the artifact: an artifact whose embedded rig has them is valid', () => {
    const input = measured();
    const { loaded } = rigInput(RIG_YAML, 'engines');
    if (!('rig' in loaded)) throw new Error(loaded.error);
    input.artifact.rig.definition = loaded.rig;
    expect(input.artifact.rig.definition.published).toHaveLength(2);
    expect(() => assertValidArtifact(JSON.parse(JSON.stringify(input.artifact)), 'engines artifact')).not.toThrow();
  });
});
