/** The sandbox workloads on the real process backend: phases in order, exec output checked, skips with the backend's reason. */
import { describe, expect, it } from 'vitest';
import { densityWorkload } from '../../../runner/workloads/sandbox/density.ts';
import { execWorkload } from '../../../runner/workloads/sandbox/exec.ts';
import { lifecycleWorkload } from '../../../runner/workloads/sandbox/lifecycle.ts';
import { poolWorkload } from '../../../runner/workloads/sandbox/pool.ts';
import { WorkloadError } from '../../../runner/contract/workload.ts';
import { liveSandboxes } from '../../../sandbox-core/cleanup.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../helpers/param-problems.ts';

const process_ = { backend: 'process' };

describe('sandbox.lifecycle', () => {
  it('times every phase of a cold sandbox, ordered, and leaves none alive', async () => {
    const { ctx } = testCell({ workload: 'sandbox.lifecycle', params: process_, sampling: { iterations: 3 } });
    const result = await lifecycleWorkload.run(ctx);
    const s = result.samples;
    expect(s.total_ms).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(s.launched_ms![i]!).toBeLessThanOrEqual(s.connected_ms![i]!);
      expect(s.connected_ms![i]!).toBeLessThanOrEqual(s.ready_ms![i]!);
      expect(s.ready_ms![i]! + s.exec_ms![i]! + s.destroy_ms![i]!).toBeLessThanOrEqual(s.total_ms![i]!);
    }
    expect(result.facts).toMatchObject({ backend: 'process', command: ['echo', 'hello'] });
    expect(liveSandboxes()).toHaveLength(0);
  });

  it('fails the cell with a WorkloadError naming the exit code when the command does not behave', async () => {
    const { ctx } = testCell({ workload: 'sandbox.lifecycle', params: { ...process_, command: ['false'] } });
    const error = await lifecycleWorkload.run(ctx).then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as WorkloadError).message).toMatch(/false exited 1/);
    // the sample that failed is not recorded: no metric holds a value
    expect(Object.values((error as WorkloadError).partial?.samples ?? {}).flat()).toEqual([]);
    expect(liveSandboxes()).toHaveLength(0);
  });

  it('names a backend that cannot run here, and rejects an unknown one', async () => {
    expect(await lifecycleWorkload.skipReason!({ backend: 'firecracker' })).toMatch(/^backend firecracker unavailable: /);
    expect(await lifecycleWorkload.skipReason!(process_)).toBeNull();
    expect(paramProblemsOf(lifecycleWorkload, { backend: 'vmware' })[0]).toMatch(/params\.backend: expected one of process, bwrap/);
  });
});

describe('sandbox.exec, sandbox.pool, sandbox.density', () => {
  it('exec: round trips through one warm sandbox, host clock above the agent clock', async () => {
    const { ctx } = testCell({ workload: 'sandbox.exec', params: process_, sampling: { iterations: 5 } });
    const { samples } = await execWorkload.run(ctx);
    expect(samples.roundtrip_ms).toHaveLength(5);
    samples.roundtrip_ms!.forEach((host, i) => expect(host).toBeGreaterThan(samples.guest_ms![i]!));
    expect(liveSandboxes()).toHaveLength(0);
  });

  it('pool: acquires from a warm pool, never waiting', async () => {
    const { ctx } = testCell({ workload: 'sandbox.pool', params: { ...process_, pool_size: 2 }, sampling: { iterations: 4 } });
    const result = await poolWorkload.run(ctx);
    expect(result.samples.first_output_ms).toHaveLength(4);
    expect(result.facts).toMatchObject({ pool_size: 2, acquired: 4, waited: 0 });
    expect(liveSandboxes()).toHaveLength(0);
  });

  it('density: N sandboxes alive at once, PSS per sandbox, all destroyed', async () => {
    const { ctx } = testCell({ workload: 'sandbox.density', params: { ...process_, n: 3 }, sampling: { iterations: 1 } });
    const result = await densityWorkload.run(ctx);
    expect(result.samples.pss_per_sandbox_mib![0]).toBeGreaterThan(0);
    expect(result.facts).toMatchObject({ n: 3, memory_kind: 'pss' });
    expect(liveSandboxes()).toHaveLength(0);
  });
});
