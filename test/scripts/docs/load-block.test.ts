/** docs/reliability.md's load figure is what scripts/docs/load-block.ts makes from the newest load artifact. */
import { describe, expect, it } from 'vitest';
import { renderLoad, renderLoadBlock } from '../../../scripts/docs/load-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('docs/reliability.md load figure', () => {

  it('says where no artifact is committed yet', () => {
    expect(renderLoad(null, null)).toEqual(['No load artifact is committed yet: run `npx mise run bench:load`.']);
  });

  it('sums successes and failures, bolds a failure or a leak by kind, and shows the worst run’s p50 / p99', () => {
    const counted = { kind: 'counted' as const, unit: 'n', better: 'lower' as const, clock: 'counted' };
    const timed = { unit: 'ms', better: 'lower' as const, clock: 'a -> b' };
    const artifact = buildArtifact({
      rig: 'load',
      cells: [
        { params: { backend: 'runc' }, samples: { successes: [100], failures: [0], leaked_mounts: [0], leaked_cgroups: [0], lifecycle_p50_ms: [270.4], lifecycle_p99_ms: [331.6] } },
        { params: { backend: 'docker' }, samples: { successes: [98], failures: [2], leaked_mounts: [0], leaked_cgroups: [3], lifecycle_p50_ms: [3964], lifecycle_p99_ms: [5786] } },
        { params: { backend: 'qemu' }, status: 'skipped', reason: 'backend qemu unavailable' },
      ],
      metrics: { successes: counted, failures: counted, leaked_mounts: counted, leaked_cgroups: counted, lifecycle_p50_ms: timed, lifecycle_p99_ms: timed },
    });
    const rows = renderLoad(artifact, 'results/load/x.json').filter((line) => /^\| (runc|docker|qemu) /.test(line));
    expect(rows).toEqual([
      '| runc | — | 100 / 100 | 0 | 270 ms / 332 ms |',
      '| docker | — | **98 / 100** | **3 cgroups** | 3964 ms / 5786 ms |',
      '| qemu | — | — | — | skipped: backend qemu unavailable |',
    ]);
  });
});
