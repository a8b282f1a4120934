import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../../runner/artifact/schema.ts';
import { evaluatePairedGates, pairedComparison } from '../../../runner/gate/paired.ts';
import { mannWhitneyU } from '../../../runner/stats/index.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const rounds = (n: number) => Array.from({ length: n }, (_, i) => i);

/** An ok cell whose time_ms samples were taken one per round. */
function cell(id: string, samples: number[]): CellResult {
  const built = buildArtifact({ cells: [{ params: { cell: id }, samples: { time_ms: samples } }] }).cells[0]!;
  built.metrics.time_ms!.rounds = rounds(samples.length);
  return built;
}

describe('pairedComparison', () => {
  it('is the median per-round ratio with a Wilcoxon p worked out by hand', () => {
    // Ratios 1.2, 1.1, 1.3, 1.2, 1.1, 1.4: median 1.2. All six log ratios positive, W+ = 21;
    // two pairs tied, Σ(t³−t) = 12: σ² = 6·7·13/24 − 12/48 = 22.5, z = (21 − 10.5 − 0.5)/√22.5 = 2.108, p = 0.035.
    const base = { samples: [10, 10, 10, 10, 10, 10], rounds: rounds(6) };
    const head = { samples: [12, 11, 13, 12, 11, 14], rounds: rounds(6) };
    const result = pairedComparison(base, head, 'median', 'lower');
    expect('reason' in result).toBe(false);
    if ('reason' in result) return;
    expect(result.ratio).toBeCloseTo(1.2, 12);
    expect(result.rounds).toBe(6);
    expect(result.p).toBeCloseTo(0.035, 3);
  });

  it('cancels drift that both sides share, which a cross-run test cannot', () => {
    // The host slows down round after round; the head is 5% slower in every round.
    const baseSamples = [10, 14, 18, 22, 26, 30];
    const head = baseSamples.map((x) => x * 1.05);
    const result = pairedComparison({ samples: baseSamples, rounds: rounds(6) }, { samples: head, rounds: rounds(6) }, 'median', 'lower');
    if ('reason' in result) throw new Error(result.reason);
    expect(result.ratio).toBeCloseTo(1.05, 12);
    // Six equal log ratios: σ² = 22.75 − 210/48 = 18.375, z = 10/√18.375 = 2.333, p = 0.0197.
    expect(result.p).toBeCloseTo(0.0197, 3);
    expect(mannWhitneyU(baseSamples, head).p).toBeGreaterThan(0.5);
  });

  it('inverts the ratio when higher is better, and pairs by round, not by position', () => {
    const base = { samples: [100, 50], rounds: [1, 0] };
    const head = { samples: [40, 80], rounds: [0, 1] };
    const result = pairedComparison(base, head, 'median', 'higher');
    if ('reason' in result) throw new Error(result.reason);
    // Round 0: 50/40 = 1.25, round 1: 100/80 = 1.25.
    expect(result.ratio).toBeCloseTo(1.25, 12);
  });

  it('judges a batched metric round by round by its slope, as the cross-run gate judges it', () => {
    // Each round: batches of 1 and 9 calls. Base per call 10 and 1 → batch times 10, 9 → slope 91/82;
    // head per call 10 and 2 → 10, 18 → slope 172/82. The ratio is 172/91, where medians per call would give 6/5.5.
    const base = { samples: [10, 1, 10, 1], rounds: [0, 0, 1, 1], batch_iterations: [1, 9, 1, 9] };
    const head = { samples: [10, 2, 10, 2], rounds: [0, 0, 1, 1], batch_iterations: [1, 9, 1, 9] };
    const result = pairedComparison(base, head, 'median', 'lower');
    if ('reason' in result) throw new Error(result.reason);
    expect(result.ratio).toBeCloseTo(172 / 91, 12);
    expect(result.baseValue).toBeCloseTo(91 / 82, 12);
  });

  it('says why it cannot compare', () => {
    expect(pairedComparison({ samples: [1], rounds: [0] }, { samples: [1], rounds: [0] }, 'median', 'lower')).toEqual({
      reason: 'a paired gate needs at least 2 rounds with both sides measured, found 1',
    });
    expect(pairedComparison({ samples: [1, 2], rounds: [] }, { samples: [1, 2], rounds: [0, 1] }, 'median', 'lower')).toMatchObject({ reason: /no rounds/ });
  });
});

describe('evaluatePairedGates', () => {
  const gate = { metric: 'time_ms', stat: 'median' as const, max_ratio: 1.1, alpha: 0.05 };
  const host = buildArtifact({ cells: [] }).host;

  it('fails a significant worsening over max_ratio, and Holm lifts it over the line when two cells share the family', () => {
    const base = [10, 10, 10, 10, 10, 10];
    const head = [12, 11, 13, 12, 11, 14];
    const one = evaluatePairedGates([gate], {}, { cells: [cell('x', head)], host, ab: { base_cells: [cell('x', base)] } });
    expect(one).toMatchObject([{ verdict: 'fail', method: 'paired', correction: 'Holm', rounds: 6 }]);
    expect(one[0]!.p_adjusted).toBeCloseTo(one[0]!.p_value!, 12);
    const two = evaluatePairedGates([gate], {}, { cells: [cell('x', head), cell('y', head)], host, ab: { base_cells: [cell('x', base), cell('y', base)] } });
    // 2 · 0.035 = 0.07 ≥ 0.05.
    expect(two.map((r) => r.verdict)).toEqual(['pass', 'pass']);
    expect(two[0]!.p_adjusted).toBeCloseTo(2 * two[0]!.p_value!, 12);
    expect(two[0]!.detail).toMatch(/Holm-adjusted\) → same \(p ≥ 0\.05\) → pass$/);
  });

  it('skips a cell the base side lacks, and judges absolute gates on the head side', () => {
    const results = evaluatePairedGates([gate, { metric: 'time_ms', stat: 'max', max: 5 }], {}, { cells: [cell('x', [1, 2, 3])], host, ab: { base_cells: [] } });
    expect(results).toMatchObject([
      { gate: 0, verdict: 'skipped', detail: 'cell is not on the base side' },
      { gate: 1, kind: 'absolute', verdict: 'pass' },
    ]);
  });
});
