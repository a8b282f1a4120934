/** docs/egress.md's bypass figure is what scripts/docs/bypass-block.ts makes from the newest egress-bypass artifact. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EGRESS_DOC, renderBypass, renderBypassBlock } from '../../../scripts/docs/bypass-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('docs/egress.md bypass figure', () => {
  it('matches the newest egress-bypass artifact (regenerate with `npm run docs`)', () => {
    const committed = readFileSync(EGRESS_DOC, 'utf8');
    expect(committed === renderBypassBlock(committed), `${EGRESS_DOC} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });

  it('sums bypasses and attempts over the batteries, bolds a bypass, says where a class was not tried', () => {
    const counted = { kind: 'counted' as const, unit: 'n', better: 'lower' as const, clock: 'counted' };
    const artifact = buildArtifact({
      rig: 'egress-bypass',
      cells: [
        { params: { backend: 'host', mode: 'tunnel' }, samples: { bypasses_alias: [0, 0], attempts_alias: [100, 100], bypasses_exfil: [0, 1], attempts_exfil: [50, 50] } },
        { params: { backend: 'qemu', mode: 'tunnel' }, status: 'skipped', reason: 'backend qemu unavailable' },
      ],
      metrics: { bypasses_alias: counted, attempts_alias: counted, bypasses_exfil: counted, attempts_exfil: counted },
    });
    const rows = renderBypass(artifact, 'results/egress-bypass/x.json').filter((line) => line.startsWith('| host') || line.startsWith('| qemu'));
    expect(rows).toEqual(['| host, tunnel | 0 / 200 | not tried | **1** / 100 | not tried | not tried | 2 |', '| qemu, tunnel | — | — | — | — | — | skipped: backend qemu unavailable |']);
  });
});
