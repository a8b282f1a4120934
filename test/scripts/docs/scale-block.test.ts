/** docs/reliability.md's scale figure is what scripts/docs/scale-block.ts makes from the newest artifact-scale artifact. */
import { describe, expect, it } from 'vitest';
import { renderScale, renderScaleBlock } from '../../../scripts/docs/scale-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('docs/reliability.md scale figure', () => {

  it('says what to run when no artifact is committed', () => {
    expect(renderScale(null, null)).toEqual(['Not committed yet: run `node bin/rigor.js run rigs/artifact-scale.rig.yaml` on a quiet host and commit its artifact.']);
  });

  it('shows the median wall time and largest peak RSS per verb against 5 s and 1 GiB', () => {
    const artifact = buildArtifact({
      rig: 'artifact-scale',
      metrics: {
        wall_ms: { unit: 'ms', better: 'lower', clock: 'fork -> exit' },
        peak_rss_kib: { unit: 'KiB', better: 'lower', kind: 'counted', clock: 'peak RSS' },
      },
      cells: [
        { params: { verb: 'gate' }, samples: { wall_ms: [4000, 4200, 4100], peak_rss_kib: [500_000, 600_000, 550_000] } },
        { params: { verb: 'compare' }, samples: { wall_ms: [6000, 6100, 5900], peak_rss_kib: [400_000, 400_000, 400_000] } },
        { params: { verb: 'validate' }, samples: { wall_ms: [7000, 7000, 7000], peak_rss_kib: [300_000, 300_000, 300_000] } },
      ],
    });
    const rows = renderScale(artifact, 'results/artifact-scale/x.json').filter((line) => /^\| (gate|compare|validate) /.test(line));
    expect(rows).toEqual([
      '| gate | 4.10 s | 586 MiB | met (n = 3) |',
      '| compare | 6.00 s | 391 MiB | **missed** (n = 3) |',
      // validate has no goal: 7 s is shown, not judged.
      '| validate | 7.00 s | 293 MiB | none (timed beside them) (n = 3) |',
    ]);
  });
});
