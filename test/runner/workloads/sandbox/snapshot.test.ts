/** sandbox.snapshot's checks: what it fills and which backends it skips (the qemu and gvisor runs themselves: rigs/snapshot.rig.yaml, smoke-tested by hand). */
import { describe, expect, it } from 'vitest';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { snapshotWorkload } from '../../../../runner/workloads/sandbox/snapshot.ts';

describe('sandbox.snapshot', () => {
  it('skips a backend without snapshot/restore, saying so', async () => {
    expect(await snapshotWorkload.skipReason!({ backend: 'process' })).toBe('backend process has no snapshot/restore');
  });

  it("skips runc with runc's own snapshotSupport() reason where it says no (criu check failing, as here)", async () => {
    const support = await runcBackend.snapshotSupport();
    const reason = await snapshotWorkload.skipReason!({ backend: 'runc' });
    if (support.ok) expect(reason).toBeNull();
    else if ((await runcBackend.available()).ok) expect(reason).toBe(`backend runc cannot snapshot here: ${support.reason}`);
    else expect(reason).not.toBeNull();
  });

  it('fills its three times in ms and image_mib counted in MiB, and nothing else', () => {
    const fill = snapshotWorkload.cannotFill!;
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'restore_ready_ms' } as never)).toBeNull();
    expect(fill({ unit: 'MiB', better: 'lower', kind: 'counted', clock: 'blocks' } as never, { name: 'image_mib' } as never)).toBeNull();
    expect(fill({ unit: 'MiB', better: 'lower', clock: 'a -> b' } as never, { name: 'image_mib' } as never)).toMatch(/a counted metric in MiB/);
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'fork_ms' } as never)).toMatch(/one of the metrics sandbox.snapshot fills/);
  });
});
