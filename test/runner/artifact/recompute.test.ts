/** Every stored summary, slope, ratio and gate result is recomputed from the samples; a stored value that disagrees is reported by its pointer. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recomputeDisagreements, sameNumber } from '../../../runner/artifact/recompute.ts';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

/** Fixed, so a failing case reproduces (fast-check prints the path to shrink it again). */
const SEED = 16_2;

function twoCells(): Artifact {
  return buildArtifact({
    gates: [
      { metric: 'time_ms', stat: 'median', max: 12, where: { backend: 'bwrap' } },
      { metric: 'time_ms', stat: 'p90', max_ratio: 1.2 },
    ],
    ratios: [{ name: 'bwrap_over_bare', of: { metric: 'time_ms', where: { backend: 'bwrap' } }, to: { metric: 'time_ms', where: { backend: 'bare' } }, goal: { max: 2 } }],
    cells: [
      { params: { backend: 'bwrap' }, samples: { time_ms: lognormalSamples(30, 10, 0.1, 1) } },
      { params: { backend: 'bare' }, samples: { time_ms: lognormalSamples(30, 6, 0.1, 2) } },
    ],
  });
}

describe('recomputeDisagreements', () => {
  it('finds none in an artifact built as a run builds one', () => {
    expect(recomputeDisagreements(twoCells())).toEqual([]);
  });

  it('reports an edited sample by the summary values it moves', () => {
    const artifact = twoCells();
    const samples = artifact.cells[0]!.metrics.time_ms!.samples;
    const stored = artifact.cells[0]!.metrics.time_ms!.summary!.max;
    samples[samples.indexOf(stored)] = stored * 10;
    const pointers = recomputeDisagreements(artifact).map((d) => d.pointer);
    expect(pointers).toContain('/cells/0/metrics/time_ms/summary/max');
    expect(pointers).toContain('/cells/0/metrics/time_ms/summary/mean');
    expect(recomputeDisagreements(artifact).find((d) => d.pointer === '/cells/0/metrics/time_ms/summary/max')).toEqual({
      pointer: '/cells/0/metrics/time_ms/summary/max',
      stored,
      recomputed: stored * 10,
    });
  });

  it('reports an edited ratio, goal and gate verdict with what they should be', () => {
    const artifact = twoCells();
    const ratio = artifact.ratios![0]!;
    const truth = { ratio: ratio.ratio, goal: ratio.goal_met, verdict: artifact.gates[0]!.verdict };
    ratio.ratio = 1;
    ratio.goal_met = !ratio.goal_met;
    artifact.gates[0]!.verdict = truth.verdict === 'pass' ? 'fail' : 'pass';
    expect(recomputeDisagreements(artifact)).toEqual([
      { pointer: '/ratios/0/ratio', stored: 1, recomputed: truth.ratio },
      { pointer: '/ratios/0/goal_met', stored: !truth.goal, recomputed: truth.goal },
      { pointer: '/gates/0/verdict', stored: artifact.gates[0]!.verdict, recomputed: truth.verdict },
    ]);
  });

  it('reports a gate result dropped from the artifact by the count', () => {
    const artifact = twoCells();
    artifact.gates.pop();
    expect(recomputeDisagreements(artifact)).toEqual([{ pointer: '/gates', stored: '2 results', recomputed: '3 results' }]);
  });

  it('recomputes a batched metric\'s slope', () => {
    const artifact = buildArtifact({ cells: [{ params: { f: 'x' }, samples: { time_ms: [2, 2.2, 1.9, 2.1] }, batches: { time_ms: [10, 20, 40, 80] } }] });
    expect(recomputeDisagreements(artifact)).toEqual([]);
    artifact.cells[0]!.metrics.time_ms!.slope!.estimate = 1;
    expect(recomputeDisagreements(artifact).map((d) => d.pointer)).toEqual(['/cells/0/metrics/time_ms/slope/estimate']);
  });

  it('counts outliers as the rigor that wrote the summary did: at any n when outliers.note is absent (before MIN_OUTLIER_SAMPLES)', () => {
    const artifact = buildArtifact({ cells: [{ params: { f: 'x' }, samples: { time_ms: [1, 1.01, 0.99, 1, 1.02, 9] } }] });
    const outliers = artifact.cells[0]!.metrics.time_ms!.summary!.outliers;
    delete outliers.note;
    // The old rule flagged the 9.
    expect(recomputeDisagreements(artifact)).toEqual([{ pointer: '/cells/0/metrics/time_ms/summary/outliers/high', stored: 0, recomputed: 1 }]);
    outliers.high = 1;
    expect(recomputeDisagreements(artifact)).toEqual([]);
  });

  it('recomputes the seeded bootstrap intervals when asked (validate, writing), and leaves them to validate otherwise (readers)', () => {
    const artifact = twoCells();
    artifact.cells[0]!.metrics.time_ms!.summary!.ci95_median!.low = 1;
    expect(recomputeDisagreements(artifact, { intervals: false })).toEqual([]);
    expect(recomputeDisagreements(artifact).map((d) => d.pointer)).toEqual(['/cells/0/metrics/time_ms/summary/ci95_median/low']);
  });

  it('compares numbers within a relative 1e-9, no looser', () => {
    expect(sameNumber(1.0000000001, 1)).toBe(true);
    expect(sameNumber(1.00000001, 1)).toBe(false);
    expect(sameNumber(0, 0)).toBe(true);
    expect(sameNumber(0, 1e-300)).toBe(false);
  });

  it('property: any one sample changed by 1% or more is caught', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.double({ min: 1.01, max: 100, noNaN: true }),
        (samples, pick, factor) => {
          const artifact = buildArtifact({ cells: [{ params: { f: 'x' }, samples: { time_ms: samples } }] });
          expect(recomputeDisagreements(artifact)).toEqual([]);
          const stored = artifact.cells[0]!.metrics.time_ms!.samples;
          stored[pick % stored.length] = stored[pick % stored.length]! * factor;
          expect(recomputeDisagreements(artifact).length).toBeGreaterThan(0);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});
