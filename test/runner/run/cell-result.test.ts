/** A cell's metrics in the artifact: samples and summary, and for a batched metric its call counts and slope. */
import { describe, expect, it } from 'vitest';
import { metricResults } from '../../../runner/run/cell-result.ts';
import { RigFile } from '../../../runner/rig/schema.ts';
import { summarize, summarizeBatches } from '../../../runner/stats/index.ts';

const rig = RigFile.parse({
  name: 'test',
  title: 'Test',
  claim: 'A test rig.',
  workload: 'policy',
  metrics: {
    call_ms: { unit: 'ms', better: 'lower', clock: 'batch started -> its last call returned' },
    rss_kb: { unit: 'kB', better: 'lower', clock: 'cell started -> cell ended' },
  },
});

describe('metricResults', () => {
  it('keeps a batched metric with its call counts and the slope fitted over them', () => {
    const perCall = [0.2, 0.25, 5 / 30];
    const metrics = metricResults(rig, { call_ms: perCall }, { call_ms: [10, 20, 30] });
    expect(metrics.call_ms).toEqual({
      ...rig.metrics.call_ms,
      samples: perCall,
      batch_iterations: [10, 20, 30],
      summary: summarize(perCall),
      slope: summarizeBatches([10, 20, 30], perCall),
    });
    expect(metrics.call_ms!.slope!.estimate).toBeCloseTo(27 / 140, 14);
  });

  it('records a metric without batches, or without samples, as before', () => {
    const metrics = metricResults(rig, { rss_kb: [5, 6] });
    expect(metrics.rss_kb).toEqual({ ...rig.metrics.rss_kb, samples: [5, 6], summary: summarize([5, 6]) });
    expect(metrics.call_ms).toEqual({ ...rig.metrics.call_ms, samples: [], summary: null });
  });
});
