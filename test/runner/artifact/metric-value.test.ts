/** The number a stored metric is shown by: the slope of a batched metric, else the median, each with where it is stored. */
import { describe, expect, it } from 'vitest';
import { storedValue } from '../../../runner/artifact/metric-value.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('storedValue', () => {
  const { cells } = buildArtifact({
    cells: [
      { params: { task: 'plain' }, samples: { time_ms: [3, 1, 2] } },
      // Batches of 10, 20, 30 calls at 0.2, 0.25, 1/6 ms a call: slope 27/140 ms.
      { params: { task: 'batched' }, samples: { time_ms: [0.2, 0.25, 5 / 30] }, batches: { time_ms: [10, 20, 30] } },
      { params: { task: 'none' } },
    ],
  });

  it('is the median of plain samples, from the summary', () => {
    const metric = cells[0]!.metrics.time_ms!;
    expect(storedValue(metric)).toEqual({
      stat: 'median',
      value: 2,
      ci95: metric.summary!.ci95_median,
      n: 3,
      at: { value: ['summary', 'median'], ci95: ['summary', 'ci95_median'], n: ['summary', 'n'] },
    });
  });

  it('is the slope of a batched metric, from its slope block', () => {
    const metric = cells[1]!.metrics.time_ms!;
    const shown = storedValue(metric)!;
    expect(shown).toMatchObject({ stat: 'slope', ci95: metric.slope!.ci95, n: 3, at: { value: ['slope', 'estimate'], ci95: ['slope', 'ci95'] } });
    expect(shown.value).toBeCloseTo(27 / 140, 14);
  });

  it('is null without samples', () => {
    expect(storedValue(cells[2]!.metrics.time_ms!)).toBeNull();
  });
});
