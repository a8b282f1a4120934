import { describe, expect, it } from 'vitest';
import { statOfSamples } from '../../../runner/stats/index.ts';
import { newestFirst, type ArtifactInput } from '../../../runner/site/model/artifact-ref.ts';
import { fragmentOf, pointerOf } from '../../../runner/site/model/json-pointer.ts';
import { useLogScale } from '../../../runner/site/model/log-scale.ts';
import { buildSiteModel, type SiteModel } from '../../../runner/site/model/site.ts';
import { withFingerprintId } from '../../../runner/host/fingerprint.ts';
import { DEMO_RIG_YAML, demoArtifacts, DOCKER_REASON, NEVER_RUN_RIG_YAML, NEWER, NOT_COLD_WHY, OLDER, resolve, rigInput, shownIn } from './fixtures.ts';
import { ratioRows } from '../../../runner/site/model/claims.ts';
import { measuredValue } from '../../../runner/site/model/matrix.ts';
import { computeRatios } from '../../../runner/run/ratios.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';



function model(): SiteModel {
  return buildSiteModel({
    rigs: [rigInput(DEMO_RIG_YAML, 'demo'), rigInput(NEVER_RUN_RIG_YAML, 'never-run')],
    artifacts: demoArtifacts(),
    problems: [],
    commitOrder: ['a'.repeat(40), 'b'.repeat(40)],
  });
}

describe('site model', () => {
  const site = model();
  const artifacts = new Map(demoArtifacts().map((input) => [input.path, input.artifact]));
  const demo = site.rigs.find((rig) => rig.name === 'demo')!;
  const matrix = demo.matrix!;
  const row = (cell: string) => matrix.rows.find((r) => r.cell === cell)!;
  const column = (metric: string) => matrix.columns.findIndex((c) => c.name === metric);

  it('takes the rig page and index numbers from the newest artifact, whatever order the artifacts came in', () => {
    expect(demo.newest?.path).toBe(NEWER);
    expect(demo.artifacts.map((a) => a.path)).toEqual([NEWER, OLDER]);
    expect(site.index.rigs.find((rig) => rig.name === 'demo')!.newest?.path).toBe(NEWER);
  });

  it('breaks a tie in start time by the file name', () => {
    const [a, b] = demoArtifacts();
    const same = { ...b!, artifact: { ...b!.artifact, run: { ...b!.artifact.run, started_at: a!.artifact.run.started_at } } };
    const tied: ArtifactInput[] = [{ ...same, path: 'results/demo/1.json' }, { ...a!, path: 'results/demo/2.json' }];
    expect(newestFirst(tied).map((input) => input.path)).toEqual(['results/demo/2.json', 'results/demo/1.json']);
  });

  it('links each matrix number to the summary field it shows, and the value there is the value shown', () => {
    const value = row('backend=process').values[column('total_ms')]!;
    expect('measured' in value).toBe(true);
    if (!('measured' in value)) return;
    expect(value.measured.value.artifactPath).toBe(NEWER);
    expect(value.measured.value.pointer).toBe('/cells/0/metrics/total_ms/summary/median');
    expect(value.measured.ci?.high.pointer).toBe('/cells/0/metrics/total_ms/summary/ci95_median/high');
    expect(value.measured.n.pointer).toBe('/cells/0/metrics/total_ms/summary/n');
    expect(value.measured.value.value).toBe(artifacts.get(NEWER)!.cells[0]!.metrics.total_ms!.summary!.median);
  });

  it('every number on every page resolves to its value in its artifact', () => {
    const pages = [site.index, ...site.rigs, ...site.compares, ...site.histories];
    const shown = shownIn(pages);
    expect(shown.length).toBeGreaterThan(100);
    for (const number of shown) {
      const found = resolve(artifacts.get(number.artifactPath), number.pointer);
      const expected = number.derived ? statOfSamples(found as number[], number.derived) : found;
      expect(number.value, `${number.artifactPath}#${number.pointer}`).toBe(expected);
    }
  });

  it('groups metric columns by the event their clock starts at', () => {
    expect(matrix.columns.map((c) => c.name)).toEqual(['ready_ms', 'total_ms', 'exec_ms']);
    expect(matrix.clockGroups).toEqual([
      { start: 'create() called', span: 2 },
      { start: 'exec() called', span: 1 },
    ]);
    expect(matrix.columns[0]).toMatchObject({ start: 'create() called', stop: 'agent answered ping' });
  });

  it('puts a dash with the reason where a cell was skipped, pointing at the reason in the artifact', () => {
    const values = row('backend=docker').values;
    expect(values.every((value) => 'dash' in value)).toBe(true);
    const dash = 'dash' in values[0]! ? values[0].dash : null;
    expect(dash?.reason).toBe(`skipped: ${DOCKER_REASON}`);
    expect(dash?.source).toEqual({ artifactPath: NEWER, pointer: '/cells/2/reason' });
    expect(resolve(artifacts.get(NEWER), dash!.source!.pointer)).toBe(DOCKER_REASON);
    // One footnote for the one reason, however many places it explains.
    expect(matrix.footnotes.filter((note) => note.text === dash?.reason)).toHaveLength(1);
    expect(new Set(values.map((value) => ('dash' in value ? value.dash.footnote : 0)))).toEqual(new Set([dash!.footnote]));
  });

  it('puts a dash where an ok cell has no samples of a metric, and where the rig defines a cell the artifact lacks', () => {
    const noSamples = row('backend=partial').values[column('exec_ms')]!;
    expect('dash' in noSamples && noSamples.dash.reason).toMatch(/^no samples of exec_ms in this cell/);
    expect('dash' in noSamples && noSamples.dash.source?.pointer).toBe('/cells/3/metrics/exec_ms/samples');
    const later = row('backend=later');
    expect(later.note).toBe('not captured');
    expect(later.values.every((value) => 'dash' in value && /defined in rigs\/demo\.rig\.yaml but not captured/.test(value.dash.reason))).toBe(true);
  });

  it('marks a cell whose dropped-cache runs were not cold, with why, from its facts', () => {
    expect(row('backend=partial').notCold).toEqual({ why: NOT_COLD_WHY, artifactPath: NEWER, pointer: '/cells/3/facts/cold' });
    expect(row('backend=process').notCold).toBeNull();
  });

  it('says TCG for the qemu cell, from its facts', () => {
    expect(row('backend=qemu').accel).toEqual({ label: 'TCG', artifactPath: NEWER, pointer: '/cells/1/facts/accel' });
    expect(demo.host?.accel).toEqual([{ label: 'TCG', cells: ['backend=qemu'] }]);
    expect(demo.host?.kvm.status).toBe('absent');
  });

  it('draws a log axis when the plotted values span more than two orders of magnitude, else a linear one', () => {
    expect(useLogScale([1, 100])).toBe(false);
    expect(useLogScale([1, 100.5])).toBe(true);
    expect(useLogScale([0, 1000])).toBe(false);
    expect(useLogScale([])).toBe(false);
    const chart = (metric: string) => demo.charts.find((c) => c.metric === metric)!;
    // ready_ms: process ~4.5 ms, qemu ~1400 ms.
    expect(chart('ready_ms').logBars).toBe(true);
    // exec_ms: 1 ms vs 13 ms.
    expect(chart('exec_ms').logBars).toBe(false);
    expect(chart('exec_ms').cells.map((c) => c.cell)).toEqual(['backend=process', 'backend=qemu']);
  });

  it('lists a rig defined but never run, and a rig run but with no file any more', () => {
    const orphan = buildSiteModel({ rigs: [rigInput(NEVER_RUN_RIG_YAML, 'never-run')], artifacts: demoArtifacts(), problems: [], commitOrder: [] });
    const never = orphan.index.rigs.find((rig) => rig.name === 'never-run')!;
    expect(never).toMatchObject({ newest: null, artifactCount: 0, headline: null, gates: null, orphan: false });
    expect(orphan.index.rigs.find((rig) => rig.name === 'demo')).toMatchObject({ orphan: true, title: 'Synthetic rig demo' });
    expect(orphan.rigs.find((rig) => rig.name === 'never-run')!.matrix).toBeNull();
  });

  it('headlines the gated metric with the gate verdicts judged on the newest artifact', () => {
    const index = site.index.rigs.find((rig) => rig.name === 'demo')!;
    expect(index.headline?.metric).toBe('total_ms');
    // Judged from the samples, as rigor gate does: every cell the gate applies to, docker's skipped.
    expect(index.gates).toEqual({ pass: 3, fail: 0, 'needs-baseline': 0, skipped: 1 });
    expect(index.headline?.rows.map((r) => r.cell)).toEqual(['backend=process', 'backend=qemu', 'backend=docker', 'backend=partial']);
  });

  it('compares the latest two artifacts, older as A, with medians recomputed from the samples', () => {
    expect(site.compares).toHaveLength(1);
    const compare = site.compares[0]!;
    expect([compare.a.path, compare.b.path]).toEqual([OLDER, NEWER]);
    const total = compare.rows.find((r) => r.cell === 'backend=process' && r.metric === 'total_ms')!;
    expect(total.verdict).toBe('worse');
    expect(total.b.value).toMatchObject({ artifactPath: NEWER, pointer: '/cells/0/metrics/total_ms/samples', derived: 'median' });
  });

  it('builds a history per rig with artifacts, in commit order', () => {
    expect(site.histories.map((h) => h.rig)).toEqual(['demo']);
    const total = site.histories[0]!.metrics.find((m) => m.metric === 'total_ms')!;
    expect(total.rows.map((r) => r.artifact.path)).toEqual([OLDER, NEWER]);
    expect(total.columns.map((c) => c.key)).toEqual(['backend=process@test-host', 'backend=qemu@test-host', 'backend=partial@test-host']);
    expect(total.columns.every((c) => c.fingerprint === null)).toBe(true);
    expect(site.histories[0]!.warnings).toEqual([]);
    expect(total.rows[0]!.values[0]!.storedCi?.low.pointer).toBe('/cells/0/metrics/total_ms/summary/ci95_median/low');
  });
});

describe('site model with a host whose fingerprint changed', () => {
  const artifacts = demoArtifacts();
  const newer = artifacts.find((input) => input.path === NEWER)!.artifact;
  const { id: before, ...fields } = newer.host.fingerprint!;
  newer.host.fingerprint = withFingerprintId({ ...fields, kernel_build: '#2 SMP' });
  const site = buildSiteModel({ rigs: [rigInput(DEMO_RIG_YAML, 'demo')], artifacts, problems: [], commitOrder: ['a'.repeat(40), 'b'.repeat(40)] });
  const after = newer.host.fingerprint.id;

  it('draws one history column per fingerprint, labelled, and says which field changed', () => {
    const history = site.histories[0]!;
    const total = history.metrics.find((m) => m.metric === 'total_ms')!;
    const process = total.columns.filter((c) => c.cell === 'backend=process');
    expect(process.map((c) => [c.key, c.fingerprint])).toEqual(
      expect.arrayContaining([
        [`backend=process@test-host#${before}`, before],
        [`backend=process@test-host#${after}`, after],
      ]),
    );
    expect(process).toHaveLength(2);
    expect(history.warnings).toEqual([expect.stringContaining(`${before} → ${after} (from 2025-01-02) differ in kernel build (uname -v: #1 SMP vs #2 SMP)`)]);
  });

  it("shows the newest artifact's fingerprint in the host block, and warns on the compare page", () => {
    const demo = site.rigs.find((rig) => rig.name === 'demo')!;
    expect(demo.host?.fingerprint?.id).toBe(after);
    expect(demo.host?.fingerprint?.entries).toContainEqual({ label: 'kernel build (uname -v)', value: '#2 SMP' });
    expect(site.compares[0]!.warnings[0]).toMatch(/^hosts differ in kernel build \(uname -v: #1 SMP vs #2 SMP\)/);
  });
});

describe('the rig page and the compare page beside it', () => {
  const RIG = `name: gz
title: gzip levels
claim: Level 9 is slower than level 1.
workload: command
matrix:
  level: [1, 9]
metrics:
  wall_ms: { unit: ms, better: lower, clock: "spawn() called -> child exited" }
gates:
  - { metric: wall_ms, stat: median, max_ratio: 1.2 }
`;
  const wall = { wall_ms: { unit: 'ms', better: 'lower' as const, clock: 'spawn() called -> child exited' } };
  const run = (path: string, day: number, slowdown: number, status: 'complete' | 'interrupted' = 'complete'): ArtifactInput => ({
    path,
    artifact: buildArtifact({
      rig: 'gz',
      metrics: wall,
      status,
      gates: [{ metric: 'wall_ms', stat: 'median', max_ratio: 1.2 }],
      startedAt: `2025-01-0${day}T00:00:00.000Z`,
      cells: [
        { params: { level: 1 }, samples: { wall_ms: lognormalSamples(20, 10 * slowdown, 0.02, day) } },
        { params: { level: 9 }, samples: { wall_ms: lognormalSamples(20, 40, 0.02, 10 + day) } },
      ],
    }),
  });
  const site = buildSiteModel({
    rigs: [rigInput(RIG, 'gz')],
    artifacts: [
      run('results/gz/1.json', 1, 1),
      run('results/gz/2.json', 2, 1.5),
      // the user hit Ctrl-C in the newest run: neither page takes it
      run('results/gz/3.json', 3, 1, 'interrupted'),
    ],
    problems: [],
    commitOrder: [],
  });
  const rig = site.rigs.find((r) => r.name === 'gz')!;
  const compare = site.compares.find((c) => c.rig === 'gz')!;

  it('judge one pair: the newest complete run against the complete run before it, passing over the interrupted one', () => {
    expect([compare.a.path, compare.b.path]).toEqual(['results/gz/1.json', 'results/gz/2.json']);
    expect(rig.newest?.path).toBe('results/gz/2.json');
    expect(rig.baseline?.path).toBe('results/gz/1.json');
    expect(rig.passedOver.map((p) => [p.artifact.path, p.reason])).toEqual([['results/gz/3.json', 'the run was interrupted']]);
    expect(site.index.rigs.find((r) => r.name === 'gz')!.newest?.path).toBe('results/gz/2.json');
  });

  it('say the same: a relative gate is judged (never needs-baseline) with the ratio and verdict word of the compare row', () => {
    expect(rig.gates.map((g) => [g.cell, g.verdict])).toEqual([
      ['level=1', 'fail'],
      ['level=9', 'pass'],
    ]);
    for (const gate of rig.gates) {
      const row = compare.rows.find((r) => r.cell === gate.cell && r.metric === 'wall_ms')!;
      expect(gate.detail).toContain(`: ${row.ratioShown}, `);
      expect(gate.detail).toContain(`→ ${row.verdictText}`);
    }
    expect(compare.rows.map((r) => r.verdictText)).toEqual(['worse', 'same (p ≥ 0.05)']);
    expect(site.index.rigs.find((r) => r.name === 'gz')!.gates).toEqual({ pass: 1, fail: 1, 'needs-baseline': 0, skipped: 0 });
  });

  it('link each gate value and baseline value to the samples they are the statistic of', () => {
    const [gate] = rig.gates;
    expect(gate!.value).toMatchObject({ artifactPath: 'results/gz/2.json', pointer: '/cells/0/metrics/wall_ms/samples', derived: 'median' });
    expect(gate!.baseline).toMatchObject({ artifactPath: 'results/gz/1.json', pointer: '/cells/0/metrics/wall_ms/samples', derived: 'median' });
    expect(gate!.bounds[0]!.bound).toMatchObject({ artifactPath: 'results/gz/2.json', pointer: '/rig/definition/gates/0/max_ratio', value: 1.2 });
  });
});

describe('the history page across an edit of the rig', () => {
  const artifacts: ArtifactInput[] = Array.from({ length: 10 }, (_, k) => ({
    path: `results/gz/${k}.json`,
    artifact: buildArtifact({
      rig: 'gz',
      rigSha256: (k < 5 ? 'a' : 'b').repeat(64),
      startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(),
      cells: [{ params: { level: 6 }, samples: { time_ms: lognormalSamples(20, k < 5 ? 10 : 20, 0.01, k) } }],
    }),
  }));
  const history = buildSiteModel({ rigs: [], artifacts, problems: [], commitOrder: [] }).histories[0]!;
  const metric = history.metrics[0]!;

  it('marks the first value from the edited rig and lists the edit, with no change point across it', () => {
    expect(metric.edits).toHaveLength(1);
    expect(metric.edits[0]).toMatchObject({ artifact: { path: 'results/gz/5.json' }, edit: { index: 5, from: 'a'.repeat(64), to: 'b'.repeat(64) } });
    expect(metric.rows.map((row) => row.values[0]!.rigEdit !== null)).toEqual([false, false, false, false, false, true, false, false, false, false]);
    expect(metric.changes).toEqual([]);
  });
});

describe('a batched metric on the site', () => {
  const call = { call_ms: { unit: 'ms', better: 'lower' as const, clock: 'batch started -> its last call returned' } };
  const artifact = buildArtifact({
    metrics: call,
    cells: [
      { params: { impl: 'cel' }, samples: { call_ms: [0.6, 0.75, 0.5] }, batches: { call_ms: [10, 20, 30] } },
      { params: { impl: 'ts' }, samples: { call_ms: [0.2, 0.25, 5 / 30] }, batches: { call_ms: [10, 20, 30] } },
    ],
  });
  artifact.ratios = computeRatios(
    [{ name: 'cel-over-ts', of: { metric: 'call_ms', where: { impl: 'cel' } }, to: { metric: 'call_ms', where: { impl: 'ts' } } }],
    artifact.cells,
  );
  const path = 'results/synthetic/a.json';

  it('shows the slope and its CI, linked to where they are stored', () => {
    const value = measuredValue(path, 1, 'call_ms', artifact.cells[1]!.metrics.call_ms!)!;
    expect(value.stat).toBe('slope');
    expect(value.value.pointer).toBe('/cells/1/metrics/call_ms/slope/estimate');
    expect(value.ci?.low.pointer).toBe('/cells/1/metrics/call_ms/slope/ci95/low');
    expect(value.n.pointer).toBe('/cells/1/metrics/call_ms/summary/n');
    for (const shown of shownIn(value)) expect(shown.value).toBe(resolve(artifact, shown.pointer));
    expect(value.value.value).toBeCloseTo(27 / 140, 14);
  });

  it('shows a ratio of slopes with each side linked to its slope', () => {
    const [row] = ratioRows({ path, artifact });
    expect(row!.stat).toBe('slope');
    expect(row!.of.value?.pointer).toBe('/ratios/0/of/slope');
    for (const shown of shownIn(row)) expect(shown.value).toBe(resolve(artifact, shown.pointer));
  });
});

describe('JSON pointers', () => {
  it('escapes ~ and / in tokens (RFC 6901)', () => {
    expect(pointerOf('cells', 3, 'a/b', 'c~d')).toBe('/cells/3/a~1b/c~0d');
  });

  it('percent-encodes what a URL fragment or an HTML id may not hold', () => {
    expect(fragmentOf('/cells/1/params/command')).toBe('/cells/1/params/command');
    expect(fragmentOf('/facts/a b"<é')).toBe('/facts/a%20b%22%3C%C3%A9');
  });
});
