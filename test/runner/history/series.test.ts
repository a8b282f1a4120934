import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitOrder } from '../../../runner/history/commit-order.ts';
import { buildHistory, type ArtifactFile } from '../../../runner/history/series.ts';
import { bootstrapCI, median, summarize } from '../../../runner/stats/index.ts';
import { buildArtifact, lognormalSamples, type ArtifactSpec } from '../../helpers/artifact-builder.ts';

const sha = (k: number) => k.toString(16).padStart(40, '0');

function file(name: string, spec: Partial<ArtifactSpec> & { samples?: number[] }): ArtifactFile {
  const { samples = [1, 2, 3], ...rest } = spec;
  return { path: `results/synthetic/${name}.json`, artifact: buildArtifact({ cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: samples } }], ...rest }) };
}

describe('buildHistory', () => {
  it('orders points by commit order, then by start time, not by when they ran', () => {
    const history = buildHistory(
      [
        file('c2', { commit: sha(2), startedAt: '2025-01-01T00:00:00.000Z' }),
        file('c1-late', { commit: sha(1), startedAt: '2025-03-01T00:00:00.000Z' }),
        file('c1-early', { commit: sha(1), startedAt: '2025-02-01T00:00:00.000Z' }),
      ],
      [sha(1), sha(2)],
    );
    expect(history.rig).toBe('synthetic');
    expect(history.series).toHaveLength(1);
    expect(history.series[0]!.points.map((p) => p.artifact)).toEqual([
      'results/synthetic/c1-early.json',
      'results/synthetic/c1-late.json',
      'results/synthetic/c2.json',
    ]);
    expect(history.series[0]!.points.every((p) => !p.placed_by_time)).toBe(true);
  });

  it('places a commit unknown to git (or none) by time, flagged', () => {
    const history = buildHistory(
      [
        file('known-1', { commit: sha(1), startedAt: '2025-01-01T00:00:00.000Z' }),
        file('known-2', { commit: sha(2), startedAt: '2025-01-03T00:00:00.000Z' }),
        file('other-branch', { commit: sha(99), startedAt: '2025-01-02T00:00:00.000Z' }),
        file('no-git', { commit: null, startedAt: '2025-01-04T00:00:00.000Z' }),
      ],
      [sha(1), sha(2)],
    );
    const points = history.series[0]!.points;
    expect(points.map((p) => [p.artifact.split('/').at(-1), p.placed_by_time])).toEqual([
      ['known-1.json', false],
      ['other-branch.json', true],
      ['known-2.json', false],
      ['no-git.json', true],
    ]);
  });

  it('keeps each host its own series, never mixed', () => {
    const history = buildHistory(
      [file('a', { hostId: 'laptop-1', samples: [5, 5, 5] }), file('b', { hostId: 'ci-runner-2', samples: [9, 9, 9] }), file('c', { hostId: 'laptop-1', samples: [6, 6, 6] })],
      [],
    );
    expect(history.series.map((s) => [s.host, s.points.map((p) => p.median)])).toEqual([
      ['laptop-1', [5, 6]],
      ['ci-runner-2', [9]],
    ]);
    for (const series of history.series) expect(series.points.every((p) => p.host === series.host)).toBe(true);
  });

  it('keeps one series per host id and fingerprint: a changed kernel build, or an older artifact with none, is another line', () => {
    const day = (d: number) => `2025-01-0${d}T00:00:00.000Z`;
    const history = buildHistory(
      [
        file('old', { withoutFingerprint: true, startedAt: day(1), samples: [4, 4, 4] }),
        file('k1-a', { startedAt: day(2), samples: [5, 5, 5] }),
        file('k2', { fingerprint: { kernel_build: '#2 SMP' }, startedAt: day(3), samples: [7, 7, 7] }),
        file('k1-b', { startedAt: day(4), samples: [6, 6, 6] }),
      ],
      [],
    );
    const k1 = buildArtifact({ cells: [] }).host.fingerprint!.id;
    const k2 = buildArtifact({ fingerprint: { kernel_build: '#2 SMP' }, cells: [] }).host.fingerprint!.id;
    expect(history.series.map((s) => [s.host, s.fingerprint, s.points.map((p) => p.median)])).toEqual([
      ['test-host', null, [4]],
      ['test-host', k1, [5, 6]],
      ['test-host', k2, [7]],
    ]);
    for (const series of history.series) expect(series.points.every((p) => p.fingerprint === series.fingerprint)).toBe(true);
    expect(history.hosts).toMatchObject([{ id: 'test-host', fingerprints: [{ id: null, artifacts: 1 }, { id: k1, artifacts: 2 }, { id: k2, artifacts: 1 }] }]);
    expect(history.warnings).toEqual([
      `host test-host ran with 3 fingerprints, each its own series (hostname and machine-id are cloned with VM images): ` +
        `none → ${k1} (from 2025-01-02) cannot be compared in CPU flags, microcode, DMI and virtualization (older artifacts record no fingerprint) and agree on the rest; ` +
        `${k1} → ${k2} (from 2025-01-03) differ in kernel build (uname -v: #1 SMP vs #2 SMP)`,
    ]);
  });

  it('recomputes median and CI from the raw samples, not the stored summary', () => {
    const samples = lognormalSamples(30, 12, 0.1, 3);
    const forged = { ...summarize(samples)!, median: 1, ci95_median: { low: 0, high: 2 } };
    const artifact = buildArtifact({ cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: samples }, summaries: { time_ms: forged } }] });
    const [point] = buildHistory([{ path: 'x.json', artifact }], []).series[0]!.points;
    expect(point).toMatchObject({ median: median(samples), ci95_median: bootstrapCI(samples, 'median'), ci_source: 'samples', n: 30, samples_path: 'cells[0].metrics.time_ms.samples' });
    expect(point!.ci95_median!.low).toBeLessThan(point!.median);
  });

  it("with ci 'summary' takes the stored CI only when the stored n and median agree with the samples", () => {
    const samples = lognormalSamples(30, 12, 0.1, 3);
    const honest = summarize(samples)!;
    const stored = { ...honest, ci95_median: { low: 11, high: 13 } };
    const forged = { ...honest, median: 1, ci95_median: { low: 0, high: 2 } };
    const point = (summary: typeof honest) =>
      buildHistory([{ path: 'x.json', artifact: buildArtifact({ cells: [{ params: { b: 1 }, samples: { time_ms: samples }, summaries: { time_ms: summary } }] }) }], [], { ci: 'summary' })
        .series[0]!.points[0]!;
    expect(point(stored)).toMatchObject({ ci95_median: { low: 11, high: 13 }, ci_source: 'summary' });
    expect(point(forged)).toMatchObject({ median: median(samples), ci95_median: bootstrapCI(samples, 'median'), ci_source: 'samples' });
    expect(point(honest).ci95_median).toEqual(bootstrapCI(samples, 'median'));
  });

  it('leaves out skipped cells and metrics without samples', () => {
    const artifact = buildArtifact({
      cells: [
        { params: { backend: 'qemu' }, status: 'skipped', reason: 'no KVM' },
        { params: { backend: 'bwrap' }, samples: { time_ms: [1, 2] } },
        { params: { backend: 'runc' } },
      ],
    });
    const history = buildHistory([{ path: 'x.json', artifact }], []);
    expect(history.series.map((s) => s.cell)).toEqual(['backend=bwrap']);
    expect(history.series[0]!.points[0]!.samples_path).toBe('cells[1].metrics.time_ms.samples');
  });

  it('starts a new series when the clock of a metric changes', () => {
    const clockA = { time_ms: { unit: 'ms', better: 'lower' as const, clock: 'spawn() called -> child exited' } };
    const clockB = { time_ms: { unit: 'ms', better: 'lower' as const, clock: 'fork() returned -> child exited' } };
    const history = buildHistory([file('a', { metrics: clockA }), file('b', { metrics: clockB })], []);
    expect(history.series.map((s) => s.clock)).toEqual(['spawn() called -> child exited', 'fork() returned -> child exited']);
  });

  it('finds the commit where the medians stepped up', () => {
    const files = Array.from({ length: 30 }, (_, k) =>
      file(`run-${k}`, { commit: sha(k + 1), startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(), samples: lognormalSamples(20, k < 18 ? 10 : 13, 0.05, k) }),
    );
    const series = buildHistory(files, files.map((_, k) => sha(k + 1))).series[0]!;
    expect(series.change_points).toHaveLength(1);
    const [change] = series.change_points;
    expect(change!.index).toBe(18);
    expect(series.points[change!.index]!.commit).toBe(sha(19));
    expect(change!.forwardChange).toBeCloseTo(0.3, 1);
  });

  it('refuses artifacts of two rigs, naming the file', () => {
    expect(() => buildHistory([file('a', { rig: 'one' }), file('b', { rig: 'two' })], [])).toThrow(
      'results/synthetic/b.json: rig.name: expected "one" (the rig of results/synthetic/a.json), found "two"',
    );
  });

  it('is empty without artifacts', () => {
    expect(buildHistory([], [])).toEqual({ rig: null, hosts: [], warnings: [], series: [] });
  });
});

describe('commitOrder', () => {
  it('lists the commits of HEAD oldest first, parents before children', () => {
    const repo = mkdtempSync(join(tmpdir(), 'rigor-order-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '-q');
    const made: string[] = [];
    for (const k of [1, 2, 3]) {
      writeFileSync(join(repo, 'f'), String(k));
      git('add', 'f');
      git('commit', '-q', '-m', `c${k}`, '--date', `2020-01-0${4 - k}T00:00:00Z`);
      made.push(git('rev-parse', 'HEAD'));
    }
    expect(commitOrder(repo)).toEqual(made);
  });

  it('is empty outside a repository', () => {
    expect(commitOrder(mkdtempSync(join(tmpdir(), 'rigor-nogit-')))).toEqual([]);
  });
});

describe('buildHistory across rig edits', () => {
  /** Twelve runs at one dirty commit; the rig file was edited before the seventh, and the level moved with it. */
  function edited(shiftAtEdit: boolean, shiftAt = 6): ArtifactFile[] {
    return Array.from({ length: 12 }, (_, k) =>
      file(`run-${String(k).padStart(2, '0')}`, {
        commit: sha(1),
        rigSha256: (k < 6 ? 'a' : 'b').repeat(64),
        startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(),
        samples: lognormalSamples(20, (shiftAtEdit ? k >= 6 : k >= shiftAt) ? 13 : 10, 0.02, k),
      }),
    );
  }

  it('marks where the rig sha256 changed, with the step that came with the edit, and puts no change point across it', () => {
    const [series] = buildHistory(edited(true), [sha(1)]).series;
    expect(series!.points.map((p) => p.rig_sha256.slice(0, 1)).join('')).toBe('aaaaaabbbbbb');
    expect(series!.rig_edits).toEqual([
      { index: 6, from: 'a'.repeat(64), to: 'b'.repeat(64), before: { mean: expect.closeTo(10, 0), n: 6 }, after: { mean: expect.closeTo(13, 0), n: 6 } },
    ]);
    expect(series!.change_points).toEqual([]);
  });

  it('still finds a change between edits, with its segments inside one rig version', () => {
    const files = Array.from({ length: 14 }, (_, k) =>
      file(`run-${String(k).padStart(2, '0')}`, {
        rigSha256: (k < 4 ? 'a' : 'b').repeat(64),
        startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(),
        samples: lognormalSamples(20, k >= 9 ? 13 : 10, 0.02, k),
      }),
    );
    const [series] = buildHistory(files, []).series;
    expect(series!.rig_edits.map((edit) => edit.index)).toEqual([4]);
    expect(series!.change_points).toMatchObject([{ index: 9, before: { n: 5 }, after: { n: 5 } }]);
  });

  it('finds the same change point with the whole series as one rig version', () => {
    const files = edited(false, 6).map((f) => ({ ...f, artifact: { ...f.artifact, rig: { ...f.artifact.rig, sha256: 'c'.repeat(64) } } }));
    const [series] = buildHistory(files, [sha(1)]).series;
    expect(series!.rig_edits).toEqual([]);
    expect(series!.change_points).toMatchObject([{ index: 6, before: { n: 6 }, after: { n: 6 } }]);
  });
});
