/**
 * The rig page's matrix (runner/site/model/matrix.ts) for a metric whose rig
 * names statistics (`show`): a value per statistic, each linked to its place
 * in a real artifact file written and read back here, and a page header
 * naming them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../../../runner/artifact/read.ts';
import { writeArtifact } from '../../../../runner/artifact/write.ts';
import type { ArtifactInput } from '../../../../runner/site/model/artifact-ref.ts';
import type { MatrixValue } from '../../../../runner/site/model/matrix.ts';
import { buildSiteModel } from '../../../../runner/site/model/site.ts';
import { rigPagePath } from '../../../../runner/site/render/links.ts';
import { renderPages } from '../../../../runner/site/render/pages.ts';
import { loadTemplates } from '../../../../runner/site/render/templates.ts';
import { buildArtifact, lognormalSamples } from '../../../helpers/artifact-builder.ts';
import { resolve, rigInput, shownIn } from '../fixtures.ts';

const READY = { unit: 'ms', better: 'lower' as const, clock: 'acquire() called -> agent answered ping' };
const EXEC = { unit: 'ms', better: 'lower' as const, clock: 'exec() called -> result decoded' };

const rigYaml = (show: string) => `name: tiers
title: Pool tiers
claim: Acquire latency by tier and concurrency, by its mean and p95.
workload: command
params: { run: "true" }
matrix:
  tier: [hot, durable]
  concurrency: [1, 10]
metrics:
  acquire_ready_ms: { unit: ms, better: lower, clock: "acquire() called -> agent answered ping"${show} }
  exec_ms: { unit: ms, better: lower, clock: "exec() called -> result decoded" }
`;



const measured = (value: MatrixValue | undefined) => (value && 'measured' in value ? value.measured : null);

const dir = mkdtempSync(join(tmpdir(), 'rigor-show-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run of the rig (acquire_ready_ms with show, as a run records it), written as rigor writes artifacts and read back. */
function writtenRun(show: boolean): { input: ArtifactInput; onDisk: unknown } {
  const built = buildArtifact({
    rig: 'tiers',
    metrics: { acquire_ready_ms: show ? { ...READY, show: ['mean', 'p95'] } : READY, exec_ms: EXEC },
    cells: [
      { params: { tier: 'hot', concurrency: 1 }, samples: { acquire_ready_ms: lognormalSamples(20, 10, 0.4, 1), exec_ms: lognormalSamples(20, 2, 0.1, 2) } },
      { params: { tier: 'hot', concurrency: 10 }, samples: { acquire_ready_ms: lognormalSamples(20, 80, 0.4, 3), exec_ms: lognormalSamples(20, 2, 0.1, 4) } },
      { params: { tier: 'durable', concurrency: 1 }, status: 'skipped', reason: 'backend process cannot snapshot' },
    ],
  });
  const file = writeArtifact(built, join(dir, show ? 'with' : 'without'));
  const path = `results/tiers/${file.split('/').at(-1)}`;
  return { input: { path, artifact: readArtifact(file) }, onDisk: JSON.parse(readFileSync(file, 'utf8')) };
}

describe('the matrix of a metric with show', () => {
  const { input, onDisk } = writtenRun(true);
  const model = buildSiteModel({ rigs: [rigInput(rigYaml(', show: [mean, p95]'), 'tiers')], artifacts: [input], problems: [], commitOrder: [] });
  const matrix = model.rigs[0]!.matrix!;
  const row = (cell: string) => matrix.rows.find((r) => r.cell === cell)!;

  it('has a value per named statistic under the metric, and one for a metric without show', () => {
    expect(matrix.columns.map((column) => [column.name, column.stats])).toEqual([
      ['acquire_ready_ms', ['mean', 'p95']],
      ['exec_ms', null],
    ]);
    expect(matrix.statRow).toBe(true);
    expect(matrix.clockGroups).toEqual([
      { start: 'acquire() called', span: 2 },
      { start: 'exec() called', span: 1 },
    ]);
    expect(matrix.rows.map((r) => r.values.length)).toEqual([3, 3, 3, 3]);
    // The rig defines tier=durable,concurrency=10; the artifact lacks it: a dash for every value.
    expect(row('tier=durable,concurrency=10').values.every((value) => 'dash' in value)).toBe(true);
    expect(row('tier=durable,concurrency=1').values.every((value) => 'dash' in value)).toBe(true);
  });

  it('links each statistic to its summary field, the mean with its CI, the p95 without one', () => {
    const [mean, p95, exec] = row('tier=hot,concurrency=10').values.map(measured);
    expect(mean).toMatchObject({ stat: 'mean', value: { artifactPath: input.path, pointer: '/cells/1/metrics/acquire_ready_ms/summary/mean' } });
    expect(mean!.ci?.low.pointer).toBe('/cells/1/metrics/acquire_ready_ms/summary/ci95_mean/low');
    expect(mean!.n.pointer).toBe('/cells/1/metrics/acquire_ready_ms/summary/n');
    expect(p95).toMatchObject({ stat: 'p95', ci: null, value: { pointer: '/cells/1/metrics/acquire_ready_ms/summary/p95' } });
    expect(exec).toMatchObject({ stat: 'median', value: { pointer: '/cells/1/metrics/exec_ms/summary/median' } });
    const summary = input.artifact.cells[1]!.metrics.acquire_ready_ms!.summary!;
    expect([mean!.value.value, p95!.value.value]).toEqual([summary.mean, summary.p95]);
    expect(summary.mean).not.toBe(summary.median);
  });

  it('every number resolves, in the file as written, to the value shown', () => {
    const shown = shownIn(matrix);
    // Per measured cell: the mean, its CI ends and n; the p95 and n; exec_ms's median, CI ends and n.
    expect(shown.length).toBe(2 * (4 + 2 + 4));
    for (const number of shown) expect(number.value, number.pointer).toBe(resolve(onDisk, number.pointer));
  });

  it('renders a header row naming the statistics, each value linked to its pointer', () => {
    const texts = new Map([[input.path, JSON.stringify(input.artifact)]]);
    const pages = renderPages(model, loadTemplates(), { rigs: new Map(), histories: new Map() }, texts);
    const html = pages.find((page) => page.path === rigPagePath('tiers'))!.content;
    expect(html).toContain('<tr><th rowspan="3">cell</th><th colspan="2" class="clock-group">from: acquire() called</th>');
    expect(html).toContain('<th title="acquire() called -&gt; agent answered ping" colspan="2">acquire_ready_ms <span class="unit">ms</span></th>');
    expect(html).toContain('<th title="exec() called -&gt; result decoded" rowspan="2">exec_ms');
    expect(html).toContain('<tr><th class="stat-name">mean</th><th class="stat-name">p95</th></tr>');
    const summary = input.artifact.cells[0]!.metrics.acquire_ready_ms!.summary!;
    expect(html).toContain(`data-pointer="/cells/0/metrics/acquire_ready_ms/summary/p95" data-value="${summary.p95}"`);
    expect(html).toContain(`data-pointer="/cells/0/metrics/acquire_ready_ms/summary/ci95_mean/high" data-value="${summary.ci95_mean!.high}"`);
  });

  it("takes show from the current rig file: an artifact run before it was added shows the statistics, a rig without it the median", () => {
    const older = writtenRun(false).input;
    const withShow = buildSiteModel({ rigs: [rigInput(rigYaml(', show: [mean, p95]'), 'tiers')], artifacts: [older], problems: [], commitOrder: [] });
    expect(measured(withShow.rigs[0]!.matrix!.rows[0]!.values[0])?.value.pointer).toBe('/cells/0/metrics/acquire_ready_ms/summary/mean');
    const without = buildSiteModel({ rigs: [rigInput(rigYaml(''), 'tiers')], artifacts: [input], problems: [], commitOrder: [] });
    expect(without.rigs[0]!.matrix!.statRow).toBe(false);
    expect(without.rigs[0]!.matrix!.rows[0]!.values.map((value) => measured(value)?.stat)).toEqual(['median', 'median']);
  });
});
