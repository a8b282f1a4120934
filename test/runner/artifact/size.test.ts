/** What makes an artifact large: each metric's bytes as written, largest first (the refusal itself: write.test.ts). */
import { describe, expect, it } from 'vitest';
import { artifactText, metricSizes } from '../../../runner/artifact/size.ts';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

const METRICS = {
  time_ms: { unit: 'ms', better: 'lower' as const, clock: 'spawn() called -> child exited' },
  rss_kb: { unit: 'kB', better: 'lower' as const, clock: 'child exited -> rusage read' },
};

describe('metricSizes', () => {
  const artifact = buildArtifact({
    metrics: METRICS,
    cells: [
      { params: { program: 'sh' }, samples: { time_ms: lognormalSamples(20, 1, 0.1, 1), rss_kb: lognormalSamples(5, 900, 0.1, 2) } },
      { params: { program: 'node' }, samples: { time_ms: lognormalSamples(200, 40, 0.1, 3) } },
    ],
  });

  it('lists every cell and metric, largest first, with its sample count', () => {
    expect(metricSizes(artifact).map(({ cell, metric, samples }) => [cell, metric, samples])).toEqual([
      ['program=node', 'time_ms', 200],
      ['program=sh', 'time_ms', 20],
      ['program=sh', 'rss_kb', 5],
      ['program=node', 'rss_kb', 0],
    ]);
  });

  it('counts a metric as many bytes as it adds to the written text', () => {
    const emptied: Artifact = structuredClone(artifact);
    emptied.cells[1]!.metrics.time_ms!.samples = [];
    const node = (a: Artifact) => metricSizes(a).find((size) => size.cell === 'program=node' && size.metric === 'time_ms')!.bytes;
    expect(node(artifact) - node(emptied)).toBe(artifactText(artifact).length - artifactText(emptied).length);
  });
});
