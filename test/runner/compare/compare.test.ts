import { describe, expect, it } from 'vitest';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { compareArtifacts, type ComparisonRow } from '../../../runner/compare/compare.ts';
import { buildArtifact, lognormalSamples, TIME_MS } from '../../helpers/artifact-builder.ts';

const METRICS = {
  ...TIME_MS,
  rps: { unit: 'req/s', better: 'higher' as const, clock: 'first request sent -> last response read' },
};

function rowOf(rows: ComparisonRow[], cell: string, metric: string): ComparisonRow {
  const row = rows.find((r) => r.cell === cell && r.metric === metric);
  if (!row) throw new Error(`no row ${cell} ${metric}`);
  return row;
}

describe('the artifact builder', () => {
  it('makes artifacts that pass schemas/artifact.schema.json', () => {
    const validate = validatorFor('artifact');
    const artifact = buildArtifact({
      metrics: METRICS,
      gates: [{ metric: 'time_ms', max_ratio: 1.1 }],
      cells: [
        { params: { backend: 'process' }, samples: { time_ms: [1, 2, 3], rps: [10, 11] } },
        { params: { backend: 'qemu' }, status: 'skipped', reason: 'kvm unusable' },
      ],
    });
    expect(validate(artifact), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('compareArtifacts', () => {
  const a = buildArtifact({
    metrics: METRICS,
    cells: [
      { params: { backend: 'process' }, samples: { time_ms: lognormalSamples(30, 10, 0.02, 1), rps: lognormalSamples(30, 1000, 0.02, 2) } },
      { params: { backend: 'bwrap' }, samples: { time_ms: lognormalSamples(30, 6, 0.02, 3), rps: lognormalSamples(30, 500, 0.02, 4) } },
      { params: { backend: 'runc' }, samples: { time_ms: lognormalSamples(10, 30, 0.02, 5), rps: lognormalSamples(10, 100, 0.02, 6) } },
    ],
  });
  const b = buildArtifact({
    metrics: METRICS,
    cells: [
      // 20% slower, and 20% more throughput.
      { params: { backend: 'process' }, samples: { time_ms: lognormalSamples(30, 12, 0.02, 11), rps: lognormalSamples(30, 1200, 0.02, 12) } },
      // Drawn from the same distribution as A.
      { params: { backend: 'bwrap' }, samples: { time_ms: lognormalSamples(30, 6, 0.02, 13), rps: lognormalSamples(30, 500, 0.02, 14) } },
      { params: { backend: 'qemu' }, samples: { time_ms: lognormalSamples(10, 1200, 0.02, 15), rps: lognormalSamples(10, 5, 0.02, 16) } },
    ],
  });
  const comparison = compareArtifacts(a, b, { labels: { a: 'old.json', b: 'new.json' } });

  it('gives median(B)/median(A) with a bootstrap CI and a rank-test p', () => {
    const row = rowOf(comparison.rows, 'backend=process', 'time_ms');
    expect(row.ratio).toBeCloseTo(1.2, 1);
    expect(row.ratio).toBeCloseTo(row.b.value! / row.a.value!, 12);
    expect(row.ratio_ci95!.low).toBeLessThan(row.ratio!);
    expect(row.ratio_ci95!.high).toBeGreaterThan(row.ratio!);
    expect(row.p_value).toBeLessThan(0.001);
    expect(row.a.n).toBe(30);
    expect(row.unit).toBe('ms');
  });

  it("judges better and worse by each metric's direction", () => {
    expect(rowOf(comparison.rows, 'backend=process', 'time_ms').verdict).toBe('worse');
    expect(rowOf(comparison.rows, 'backend=process', 'rps').verdict).toBe('better');
  });

  it("calls a difference 'same' unless p < alpha", () => {
    const row = rowOf(comparison.rows, 'backend=bwrap', 'time_ms');
    expect(row.p_value).toBeGreaterThanOrEqual(0.05);
    expect(row.verdict).toBe('same');
    const strict = compareArtifacts(a, b, { alpha: 1e-300 });
    expect(rowOf(strict.rows, 'backend=process', 'time_ms').verdict).toBe('same');
  });

  it('lists cells only one side has', () => {
    expect(rowOf(comparison.rows, 'backend=runc', 'time_ms')).toMatchObject({ verdict: 'only-in-a', b: { value: null, n: 0 }, ratio: null });
    expect(rowOf(comparison.rows, 'backend=qemu', 'rps')).toMatchObject({ verdict: 'only-in-b', a: { value: null, n: 0 } });
    expect(comparison.rows.map((row) => row.cell)).toEqual([
      'backend=process', 'backend=process', 'backend=bwrap', 'backend=bwrap', 'backend=runc', 'backend=runc', 'backend=qemu', 'backend=qemu',
    ]);
  });

  it('lists metrics only one side has', () => {
    const onlyTime = buildArtifact({ cells: [{ params: { backend: 'process' }, samples: { time_ms: [1, 2, 3] } }] });
    const rows = compareArtifacts(a, onlyTime).rows.filter((row) => row.cell === 'backend=process');
    expect(rows.map((row) => [row.metric, row.verdict])).toEqual([
      ['time_ms', 'better'],
      ['rps', 'only-in-a'],
    ]);
    const reversed = compareArtifacts(onlyTime, a).rows.filter((row) => row.cell === 'backend=process');
    expect(reversed.find((row) => row.metric === 'rps')?.verdict).toBe('only-in-b');
  });

  it('labels both sides; one host gives no host warning', () => {
    expect(comparison.a).toMatchObject({ label: 'old.json', rig: 'synthetic', host: 'test-host' });
    expect(comparison.hostsDiffer).toBe(false);
    // The two rigs differ in their matrix (runc vs qemu), so the rig file was edited in between.
    expect(comparison.warnings).toEqual([expect.stringContaining('rig synthetic was edited between the runs')]);
  });
});

describe('compareArtifacts warnings', () => {
  const cells = [{ params: { backend: 'process' }, samples: { time_ms: [1, 2, 3] } }];

  it('stays quiet for one host and one unchanged rig', () => {
    const c = compareArtifacts(buildArtifact({ cells }), buildArtifact({ cells }));
    expect(c.warnings).toEqual([]);
  });

  it('warns loudly when the hosts differ, even with one fingerprint (clones on like machines are still two)', () => {
    const c = compareArtifacts(buildArtifact({ hostId: 'laptop', cells }), buildArtifact({ hostId: 'ci-runner', cells }));
    expect(c.hostsDiffer).toBe(true);
    const fingerprint = buildArtifact({ cells }).host.fingerprint!.id;
    expect(c.warnings).toEqual([
      `artifacts come from different hosts (laptop vs ci-runner), alike by fingerprint ${fingerprint}: differences may be the machine, not the code; compare runs from one host to judge a change`,
    ]);
  });

  it('names the fingerprint fields two hosts differ in', () => {
    const c = compareArtifacts(
      buildArtifact({ hostId: 'laptop', cells }),
      buildArtifact({ hostId: 'ci-runner', fingerprint: { cpu_model: 'Xeon 8375C', virtualization: 'none' }, cells }),
    );
    expect(c.warnings[0]).toBe(
      'artifacts come from different hosts (laptop vs ci-runner), which differ in CPU model (Test CPU @ 2.0GHz vs Xeon 8375C), virtualization (kvm vs none): ' +
        'differences may be the machine, not the code; compare runs from one host to judge a change',
    );
  });

  it('treats one host id with another CPU model as another host', () => {
    const c = compareArtifacts(buildArtifact({ cpuModel: 'EPYC 7763', cells }), buildArtifact({ cpuModel: 'Xeon 8375C', cells }));
    expect(c.hostsDiffer).toBe(true);
    expect(c.warnings[0]).toContain('hosts differ in CPU model (EPYC 7763 vs Xeon 8375C), though both artifacts name host test-host');
  });

  it('tells apart one host id whose kernel build and microcode changed, naming both values', () => {
    const c = compareArtifacts(
      buildArtifact({ fingerprint: { kernel_build: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1', microcode: '0x2b000590' }, cells }),
      buildArtifact({ fingerprint: { kernel_build: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1', microcode: '0x2b000603' }, cells }),
    );
    expect(c.hostsDiffer).toBe(true);
    expect(c.warnings).toEqual([
      'hosts differ in microcode (0x2b000590 vs 0x2b000603), kernel build (uname -v: #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 vs #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1), ' +
        'though both artifacts name host test-host (hostname and machine-id are cloned with VM images): differences may be the machine, not the code; compare runs from one host to judge a change',
    ]);
  });

  it('never claims an older artifact without a fingerprint is the same machine', () => {
    const c = compareArtifacts(buildArtifact({ withoutFingerprint: true, cells }), buildArtifact({ cells }));
    expect(c.hostsDiffer).toBe(false);
    expect(c.warnings).toEqual([
      'the host fingerprint cannot be compared: A is an older artifact without a host fingerprint (its CPU flags, microcode, DMI and virtualization are unknown); ' +
        'both artifacts name host test-host and agree on CPU model, logical CPUs, kernel release, kernel build and memory, but the host id is cloned with VM images: do not take the two for one machine',
    ]);
  });

  it('still names what an older artifact\'s host block shows to differ (its kernel.version is uname -v)', () => {
    const c = compareArtifacts(buildArtifact({ cells }), buildArtifact({ withoutFingerprint: true, fingerprint: { kernel_build: '#2 SMP' }, cells }));
    expect(c.hostsDiffer).toBe(true);
    expect(c.warnings[0]).toBe(
      'hosts differ in kernel build (uname -v: #1 SMP vs #2 SMP), though both artifacts name host test-host (hostname and machine-id are cloned with VM images); ' +
        'B is an older artifact without a host fingerprint (its CPU flags, microcode, DMI and virtualization are unknown): differences may be the machine, not the code; compare runs from one host to judge a change',
    );
  });

  it('says so when both artifacts are older', () => {
    const old = buildArtifact({ withoutFingerprint: true, cells });
    expect(compareArtifacts(old, old).warnings[0]).toMatch(/^the host fingerprint cannot be compared: A and B are older artifacts without a host fingerprint/);
  });

  it('warns about different rigs and still compares matching cells', () => {
    const c = compareArtifacts(buildArtifact({ rig: 'one', cells }), buildArtifact({ rig: 'two', cells }));
    expect(c.warnings.join('\n')).toContain('different rigs (one vs two)');
    expect(c.rows).toHaveLength(1);
    expect(c.rows[0]!.verdict).toBe('same');
  });

  it('never compares a metric whose clock differs: one warning, no rows', () => {
    const other = { time_ms: { ...TIME_MS.time_ms!, clock: 'fork() -> exec()' } };
    const c = compareArtifacts(buildArtifact({ cells }), buildArtifact({ metrics: other, cells }));
    expect(c.rows).toEqual([]);
    expect(c.warnings).toContainEqual(
      'metric time_ms is defined differently (clock: "spawn() called -> child exited" in A vs "fork() -> exec()" in B): not compared',
    );
  });

  it("gives 'no-samples' with the reason when a side's cell was skipped", () => {
    const skipped = buildArtifact({ cells: [{ params: { backend: 'process' }, status: 'skipped', reason: 'bwrap not on PATH' }] });
    const [row] = compareArtifacts(buildArtifact({ cells }), skipped).rows;
    expect(row).toMatchObject({ verdict: 'no-samples', a: { n: 3 }, b: { n: 0, value: null }, p_value: null });
    expect(row!.note).toBe('B: cell skipped (bwrap not on PATH)');
  });

  it('warns about a run that did not complete', () => {
    const c = compareArtifacts(buildArtifact({ cells }), buildArtifact({ status: 'interrupted', cells }));
    expect(c.warnings).toEqual([expect.stringContaining('B: the run is interrupted')]);
  });
});
