/** sandbox.fork's checks: what it fills and which backends it skips (the runs themselves: rigs/fork.rig.yaml, smoke-tested by hand; the backends' forks: test/sandbox-core/backends/{qemu,runc}/fork.test.ts). */
import { describe, expect, it } from 'vitest';
import { forkWorkload } from '../../../../runner/workloads/sandbox/fork.ts';

describe('sandbox.fork', () => {
  it('skips a backend without fork, saying so', async () => {
    expect(await forkWorkload.skipReason!({ backend: 'process' })).toBe('backend process has no fork');
  });

  it('fills its two times in ms, image_mib counted in MiB and files_survived counted in files, and nothing else', () => {
    const fill = forkWorkload.cannotFill!;
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'fork_ms' } as never)).toBeNull();
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'child_ready_ms' } as never)).toBeNull();
    expect(fill({ unit: 'MiB', better: 'lower', kind: 'counted', clock: 'blocks' } as never, { name: 'image_mib' } as never)).toBeNull();
    expect(fill({ unit: 'files', better: 'higher', kind: 'counted', clock: 'files' } as never, { name: 'files_survived' } as never)).toBeNull();
    expect(fill({ unit: 'MiB', better: 'lower', clock: 'a -> b' } as never, { name: 'image_mib' } as never)).toMatch(/a counted metric in MiB/);
    expect(fill({ unit: 'files', better: 'higher', clock: 'a -> b' } as never, { name: 'files_survived' } as never)).toMatch(/a counted metric in files/);
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'save_ms' } as never)).toMatch(/one of the metrics sandbox.fork fills/);
  });
});
