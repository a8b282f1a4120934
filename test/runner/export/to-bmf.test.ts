import { describe, expect, it } from 'vitest';
import { toBmf } from '../../../runner/export/to-bmf.ts';
import { bootstrapCI, median } from '../../../runner/stats/index.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

const METRICS = {
  ready_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> agent answered' },
  rss_mib: { unit: 'MiB', better: 'lower' as const, clock: 'agent answered -> stats() read' },
};

describe('toBmf', () => {
  const ready = lognormalSamples(25, 6, 0.1, 1);
  const rss = [12, 12.5, 13];
  const artifact = buildArtifact({
    rig: 'lifecycle',
    metrics: METRICS,
    cells: [
      { params: { backend: 'bwrap', concurrency: 1 }, samples: { ready_ms: ready, rss_mib: rss } },
      { params: { backend: 'qemu', concurrency: 1 }, status: 'skipped', reason: 'no KVM' },
      { params: { backend: 'runc', concurrency: 1 }, samples: { ready_ms: [30] } },
    ],
  });

  it('names a benchmark <rig>/<cell id> and a measure by the metric: median with the CI of the median, in the unit of the metric', () => {
    const bmf = toBmf(artifact);
    const ci = bootstrapCI(ready, 'median')!;
    expect(bmf['lifecycle/backend=bwrap,concurrency=1']).toEqual({
      ready_ms: { value: median(ready), lower_value: ci.low, upper_value: ci.high },
      rss_mib: { value: 12.5, lower_value: expect.any(Number), upper_value: expect.any(Number) },
    });
  });

  it('leaves out skipped cells, metrics without samples, and the bounds when one sample gives no interval', () => {
    const bmf = toBmf(artifact);
    expect(Object.keys(bmf)).toEqual(['lifecycle/backend=bwrap,concurrency=1', 'lifecycle/backend=runc,concurrency=1']);
    expect(bmf['lifecycle/backend=runc,concurrency=1']).toEqual({ ready_ms: { value: 30 } });
  });

  it("matches Bencher's BMF JSON Schema: objects of objects with a numeric value", () => {
    for (const measures of Object.values(toBmf(artifact))) {
      for (const metric of Object.values(measures)) {
        expect(typeof metric.value).toBe('number');
        expect(Object.keys(metric).every((key) => ['value', 'lower_value', 'upper_value'].includes(key))).toBe(true);
      }
    }
  });
});
