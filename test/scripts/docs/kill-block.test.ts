/** docs/reliability.md's kill figure is what scripts/docs/kill-block.ts makes from the newest kill artifact. */
import { describe, expect, it } from 'vitest';
import { renderKillBlock, renderKills } from '../../../scripts/docs/kill-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('docs/reliability.md kill figure', () => {

  it('says how to make the figure while no kill artifact is committed', () => {
    expect(renderKills(null, null)).toEqual([expect.stringMatching(/^Not committed yet: run `npx rigor run kill`/)]);
  });

  it('sums kills and leftovers per backend, bolds a leftover, gives a skipped cell its reason', () => {
    const counted = { kind: 'counted' as const, unit: 'n', better: 'lower' as const, clock: 'counted' };
    const artifact = buildArtifact({
      rig: 'kill',
      cells: [
        { params: { backend: 'runc' }, samples: { leftovers: [0, 2], leftovers_cgroup: [0, 2], kills_landed: [1, 0] } },
        { params: { backend: 'qemu' }, status: 'skipped', reason: 'backend qemu unavailable' },
      ],
      metrics: { leftovers: counted, leftovers_cgroup: counted, kills_landed: counted },
    });
    const rows = renderKills(artifact, 'results/kill/x.json').filter((line) => line.startsWith('| runc') || line.startsWith('| qemu'));
    expect(rows).toEqual([
      '| runc | 2 (1 landed) | **2** | 0 | 0 | 0 | 0 | 0 | **2** | 0 | 0 | |',
      '| qemu | — | — | — | — | — | — | — | — | — | — | skipped: backend qemu unavailable |',
    ]);
  });
});
