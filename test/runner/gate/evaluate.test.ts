import { describe, expect, it } from 'vitest';
import type { Artifact, GateResult } from '../../../runner/artifact/schema.ts';
import { evaluateGates, gateExitCode, NO_MATCHING_CELL } from '../../../runner/gate/evaluate.ts';
import type { RigInput } from '../../../runner/rig/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { summarize } from '../../../runner/stats/index.ts';
import { buildArtifact, lognormalSamples, TIME_MS, type CellSpec } from '../../helpers/artifact-builder.ts';

const RPS = { rps: { unit: 'req/s', better: 'higher' as const, clock: 'first request sent -> last response read' } };

/** Gates as the candidate's rig defines them, evaluated as `rigor gate` does. */
function gate(candidate: Artifact, baseline?: Artifact): GateResult[] {
  const { gates, metrics } = candidate.rig.definition;
  return evaluateGates(gates, metrics, candidate, baseline);
}

function pair(opts: {
  gates: RigInput['gates'];
  base: number[];
  cand: number[];
  metric?: 'time_ms' | 'rps';
}): { baseline: Artifact; candidate: Artifact } {
  const metric = opts.metric ?? 'time_ms';
  const metrics = metric === 'rps' ? RPS : TIME_MS;
  const cell = (samples: number[]): CellSpec[] => [{ params: { backend: 'bwrap' }, samples: { [metric]: samples } }];
  return {
    baseline: buildArtifact({ metrics, gates: opts.gates, cells: cell(opts.base) }),
    candidate: buildArtifact({ metrics, gates: opts.gates, cells: cell(opts.cand) }),
  };
}

const RELATIVE = [{ metric: 'time_ms', stat: 'median' as const, max_ratio: 1.1 }];

describe('relative gates', () => {
  it('fails a clean 20% slowdown (CV 2%, n=30) against max_ratio 1.1', () => {
    const { baseline, candidate } = pair({ gates: RELATIVE, base: lognormalSamples(30, 10, 0.02, 1), cand: lognormalSamples(30, 12, 0.02, 2) });
    const [result] = gate(candidate, baseline);
    expect(result).toMatchObject({ gate: 0, kind: 'relative', metric: 'time_ms', stat: 'median', cell: 'backend=bwrap', verdict: 'fail', bound: { max_ratio: 1.1 } });
    expect(result!.ratio).toBeCloseTo(1.2, 1);
    expect(result!.ratio).toBeCloseTo(result!.value! / result!.baseline_value!, 12);
    expect(result!.ratio_ci95!.low).toBeGreaterThan(1.1);
    expect(result!.p_value).toBeLessThan(0.0001);
    expect(result!.detail).toMatch(/^median 1\d\.\d ms vs (9\.\d\d|10\.\d) ms: 1\.\d\d× \[1\.\d\d–1\.\d\d\], p < 0\.0001 \(Mann-Whitney U\) → worse; 1\.\d\d× > 1\.1× → regression$/);
    expect(gateExitCode([result!])).toBe(1);
  });

  it('passes a 20% shift buried in heavy noise (CV 100%, n=20): not significant', () => {
    // Seeds where the noise pushed the sample medians past max_ratio: only significance stands between them and a fail.
    const { baseline, candidate } = pair({ gates: RELATIVE, base: lognormalSamples(20, 10, 1, 5), cand: lognormalSamples(20, 12, 1, 6) });
    const [result] = gate(candidate, baseline);
    expect(result!.ratio).toBeGreaterThan(1.1);
    expect(result!.p_value).toBeGreaterThanOrEqual(0.05);
    expect(result!.verdict).toBe('pass');
    expect(result!.detail).toMatch(/\(Mann-Whitney U\) → same \(p ≥ 0\.05\) → pass$/);
    expect(gateExitCode([result!])).toBe(0);
  });

  it('passes identical samples', () => {
    const samples = lognormalSamples(30, 10, 0.05, 5);
    const { baseline, candidate } = pair({ gates: RELATIVE, base: samples, cand: [...samples] });
    const [result] = gate(candidate, baseline);
    expect(result).toMatchObject({ verdict: 'pass', ratio: 1, p_value: 1 });
    expect(result!.detail).toContain('1.00× [0.97–1.03], p = 1.0 (Mann-Whitney U) → same (p ≥ 0.05) → pass');
  });

  it('passes a significant 5% slowdown that stays under max_ratio 1.1', () => {
    const { baseline, candidate } = pair({ gates: RELATIVE, base: lognormalSamples(30, 10, 0.02, 6), cand: lognormalSamples(30, 10.5, 0.02, 7) });
    const [result] = gate(candidate, baseline);
    expect(result!.p_value).toBeLessThan(0.05);
    expect(result!.ratio).toBeGreaterThan(1.02);
    expect(result!.ratio).toBeLessThan(1.1);
    expect(result!.verdict).toBe('pass');
    expect(result!.detail).toMatch(/→ worse; 1\.0\d× ≤ 1\.1× → pass$/);
  });

  it('passes a 20% improvement', () => {
    const { baseline, candidate } = pair({ gates: RELATIVE, base: lognormalSamples(30, 12, 0.02, 8), cand: lognormalSamples(30, 10, 0.02, 9) });
    const [result] = gate(candidate, baseline);
    expect(result!.ratio).toBeLessThan(0.9);
    expect(result!.verdict).toBe('pass');
    expect(result!.detail).toMatch(/: 0\.8\d× \[0\.\d\d–0\.\d\d\], p < 0\.0001 \(Mann-Whitney U\) → better → pass$/);
  });

  describe('higher is better', () => {
    const gates = [{ metric: 'rps', stat: 'median' as const, max_ratio: 1.1 }];

    it('fails a 20% throughput drop, with the ratio and its CI as baseline/candidate', () => {
      const { baseline, candidate } = pair({ metric: 'rps', gates, base: lognormalSamples(30, 1000, 0.02, 10), cand: lognormalSamples(30, 800, 0.02, 11) });
      const [result] = gate(candidate, baseline);
      expect(result!.verdict).toBe('fail');
      expect(result!.ratio).toBeCloseTo(result!.baseline_value! / result!.value!, 12);
      expect(result!.ratio).toBeCloseTo(1.25, 1);
      expect(result!.ratio_ci95!.low).toBeLessThan(result!.ratio!);
      expect(result!.ratio_ci95!.high).toBeGreaterThan(result!.ratio!);
      expect(result!.detail).toContain('req/s');
    });

    it('passes a 20% throughput gain', () => {
      const { baseline, candidate } = pair({ metric: 'rps', gates, base: lognormalSamples(30, 1000, 0.02, 12), cand: lognormalSamples(30, 1200, 0.02, 13) });
      const [result] = gate(candidate, baseline);
      expect(result!.ratio).toBeLessThan(1);
      expect(result!.verdict).toBe('pass');
    });
  });

  it('does not fail a tail statistic when the samples as a whole moved the better way', () => {
    // The candidate is faster nearly everywhere but has a slow tail: p99 worsens, the rank test sees an improvement.
    const base = lognormalSamples(40, 10, 0.02, 14);
    const cand = [...lognormalSamples(38, 8, 0.02, 15), 30, 31];
    const { baseline, candidate } = pair({ gates: [{ metric: 'time_ms', stat: 'p99', max_ratio: 1.1 }], base, cand });
    const [result] = gate(candidate, baseline);
    expect(result!.ratio).toBeGreaterThan(2);
    expect(result!.p_value).toBeLessThan(0.05);
    expect(result!.verdict).toBe('pass');
    expect(result!.ratio_ci95).toBeNull(); // no bootstrap of p99: no interval rather than a wrong one
    expect(result!.detail).toContain('→ same (p99 and samples moved opposite ways) → pass');
  });

  it("judges the raw samples, not the stored summaries (a hand-edited candidate is 1.5x slower)", () => {
    const base = lognormalSamples(30, 10, 0.02, 16);
    const slow = lognormalSamples(30, 15, 0.02, 17);
    const gates = [...RELATIVE, { metric: 'time_ms', stat: 'median' as const, max: 12 }];
    const baseline = buildArtifact({ gates, cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: base } }] });
    const candidate = buildArtifact({
      gates,
      cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: slow }, summaries: { time_ms: summarize(base)! } }],
    });
    expect(candidate.cells[0]!.metrics.time_ms!.summary!.median).toBeLessThan(11);
    const results = gate(candidate, baseline);
    expect(results.map((r) => r.verdict)).toEqual(['fail', 'fail']);
    expect(results[0]!.ratio).toBeCloseTo(1.5, 1);
    expect(results[1]!.value).toBeGreaterThan(14);
  });

  it("gives 'needs-baseline' without a baseline, which does not fail the run", () => {
    const { candidate } = pair({ gates: RELATIVE, base: [], cand: [10, 11, 12] });
    const results = gate(candidate);
    expect(results).toEqual([
      expect.objectContaining({ verdict: 'needs-baseline', value: 11, baseline_value: null, ratio: null, p_value: null }),
    ]);
    expect(results[0]!.detail).toContain('needs a baseline');
    expect(gateExitCode(results)).toBe(0);
  });

  it("skips a cell the baseline does not have, saying so", () => {
    const candidate = buildArtifact({ gates: RELATIVE, cells: [{ params: { backend: 'runc' }, samples: { time_ms: [1, 2, 3] } }] });
    const baseline = buildArtifact({ gates: RELATIVE, cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: [1, 2, 3] } }] });
    const [result] = gate(candidate, baseline);
    expect(result).toMatchObject({ verdict: 'skipped', cell: 'backend=runc', detail: 'cell backend=runc is not in the baseline' });
  });

  it('skips a cell the baseline skipped', () => {
    const candidate = buildArtifact({ gates: RELATIVE, cells: [{ params: { backend: 'qemu' }, samples: { time_ms: [1, 2, 3] } }] });
    const baseline = buildArtifact({ gates: RELATIVE, cells: [{ params: { backend: 'qemu' }, status: 'skipped', reason: 'no KVM' }] });
    expect(gate(candidate, baseline)[0]).toMatchObject({ verdict: 'skipped', detail: 'baseline cell skipped: no KVM' });
  });

  it('still evaluates a baseline from another host, and says so', () => {
    const cells = (samples: number[]) => [{ params: { backend: 'bwrap' }, samples: { time_ms: samples } }];
    const baseline = buildArtifact({ hostId: 'laptop', gates: RELATIVE, cells: cells(lognormalSamples(30, 10, 0.02, 18)) });
    const candidate = buildArtifact({ hostId: 'ci', gates: RELATIVE, cells: cells(lognormalSamples(30, 12, 0.02, 19)) });
    const [result] = gate(candidate, baseline);
    expect(result!.verdict).toBe('fail');
    expect(result!.detail).toMatch(/→ regression; baseline from another host \(laptop vs ci\)$/);
  });
});

describe('absolute gates', () => {
  const cells: CellSpec[] = [
    { params: { backend: 'process', concurrency: 1 }, samples: { time_ms: [1, 1.1, 0.9, 1.0] } },
    { params: { backend: 'bwrap', concurrency: 1 }, samples: { time_ms: [6, 6.2, 5.9, 6.1] } },
    { params: { backend: 'bwrap', concurrency: 4 }, samples: { time_ms: [9, 9.5, 8.8, 30] } },
    { params: { backend: 'qemu', concurrency: 1 }, status: 'skipped', reason: 'qemu-system-x86_64 not on PATH' },
  ];

  it('applies max to every matching cell and only to those', () => {
    const artifact = buildArtifact({ gates: [{ metric: 'time_ms', stat: 'max', max: 10, where: { backend: 'bwrap' } }], cells });
    const results = gate(artifact);
    expect(results.map((r) => [r.cell, r.verdict])).toEqual([
      ['backend=bwrap,concurrency=1', 'pass'],
      ['backend=bwrap,concurrency=4', 'fail'],
    ]);
    expect(results[0]).toMatchObject({ kind: 'absolute', value: 6.2, bound: { max: 10 }, detail: 'max 6.20 ms within max 10 ms → pass' });
    expect(results[1]!.detail).toBe('max 30 ms > max 10 ms → fail');
    expect(results[0]).not.toHaveProperty('ratio');
    expect(gateExitCode(results)).toBe(1);
  });

  it('matches every key of where (numbers included)', () => {
    const artifact = buildArtifact({ gates: [{ metric: 'time_ms', max: 100, where: { backend: 'bwrap', concurrency: 4 } }], cells });
    expect(gate(artifact).map((r) => r.cell)).toEqual(['backend=bwrap,concurrency=4']);
  });

  it('applies min', () => {
    const artifact = buildArtifact({ gates: [{ metric: 'time_ms', stat: 'median', min: 2, where: { concurrency: 1 } }], cells });
    expect(gate(artifact).map((r) => [r.cell, r.verdict])).toEqual([
      ['backend=process,concurrency=1', 'fail'],
      ['backend=bwrap,concurrency=1', 'pass'],
      ['backend=qemu,concurrency=1', 'skipped'],
    ]);
  });

  it('reports a skipped cell as skipped with its reason, never as a pass', () => {
    const artifact = buildArtifact({ gates: [{ metric: 'time_ms', max: 1000, where: { backend: 'qemu' } }], cells });
    const results = gate(artifact);
    expect(results).toEqual([
      expect.objectContaining({ verdict: 'skipped', value: null, detail: 'candidate cell skipped: qemu-system-x86_64 not on PATH' }),
    ]);
    expect(gateExitCode(results)).toBe(0);
  });

  it('reports a gate that matches no cell', () => {
    const artifact = buildArtifact({ gates: [{ metric: 'time_ms', max: 1, where: { backend: 'firecracker' } }], cells });
    expect(gate(artifact)).toEqual([
      expect.objectContaining({ cell: NO_MATCHING_CELL, verdict: 'skipped', detail: 'no cell matches where backend=firecracker' }),
    ]);
  });

  it('numbers results by the gate index in the rig', () => {
    const artifact = buildArtifact({
      gates: [
        { metric: 'time_ms', max: 100, where: { backend: 'process' } },
        { metric: 'time_ms', max: 100, where: { backend: 'bwrap', concurrency: 1 } },
      ],
      cells,
    });
    expect(gate(artifact).map((r) => r.gate)).toEqual([0, 1]);
  });
});

describe('gate results', () => {
  it('fit the artifact schema, so a run can store them', () => {
    const gates = [
      ...RELATIVE,
      { metric: 'time_ms', stat: 'p95' as const, min: 1, max: 100 },
      { metric: 'time_ms', max: 1, where: { backend: 'none' } },
    ];
    const cells: CellSpec[] = [
      { params: { backend: 'bwrap' }, samples: { time_ms: lognormalSamples(30, 12, 0.02, 20) } },
      { params: { backend: 'qemu' }, status: 'failed', reason: 'guest hung' },
    ];
    const baseline = buildArtifact({ gates, cells: [{ params: { backend: 'bwrap' }, samples: { time_ms: lognormalSamples(30, 10, 0.02, 21) } }] });
    const candidate = buildArtifact({ gates, cells });
    const results = gate(candidate, baseline);
    expect(new Set(results.map((r) => r.verdict))).toEqual(new Set(['fail', 'pass', 'skipped']));
    const validate = validatorFor('artifact');
    const stored = JSON.parse(JSON.stringify({ ...candidate, gates: results }));
    expect(validate(stored), JSON.stringify(validate.errors)).toBe(true);
  });
});
