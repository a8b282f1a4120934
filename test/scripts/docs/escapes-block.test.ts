/** docs/reliability.md's escape figure is what scripts/docs/escapes-block.ts makes from the newest escapes artifact. */
import { describe, expect, it } from 'vitest';
import { renderEscapes, renderEscapesBlock } from '../../../scripts/docs/escapes-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('docs/reliability.md escape figure', () => {

  it('says how to make the artifact while none is committed', () => {
    expect(renderEscapes(null, null)).toEqual(['No escapes artifact is committed yet: run `npx mise run bench:escapes` (or `npx rigor run escapes`).']);
  });

  it('sums escapes and attempts over the batteries, bolds an escape, labels the control and the runtime, says where a category was not tried', () => {
    const counted = { kind: 'counted' as const, unit: 'n', better: 'lower' as const, clock: 'counted' };
    const artifact = buildArtifact({
      rig: 'escapes',
      cells: [
        { params: { backend: 'process', control: true }, samples: { attempts_host_files: [2, 2], successes_host_files: [2, 2] } },
        { params: { backend: 'docker', runtime: 'runsc', control: false }, samples: { attempts_host_files: [2, 2], successes_host_files: [0, 0], attempts_capabilities: [3, 3], successes_capabilities: [0, 1] } },
        { params: { backend: 'qemu', control: false }, status: 'skipped', reason: 'backend qemu unavailable' },
      ],
      metrics: { attempts_host_files: counted, successes_host_files: counted, attempts_capabilities: counted, successes_capabilities: counted },
    });
    const rows = renderEscapes(artifact, 'results/escapes/x.json').filter((line) => /^\| (process|docker|qemu)/.test(line));
    expect(rows).toEqual([
      '| process — control, no isolation | **4** / 4 | not tried | not tried | not tried | not tried | not tried | not tried | not tried | 2 |',
      '| docker (runsc) | 0 / 4 | not tried | not tried | **1** / 6 | not tried | not tried | not tried | not tried | 2 |',
      '| qemu | — | — | — | — | — | — | — | — | skipped: backend qemu unavailable |',
    ]);
  });
});
