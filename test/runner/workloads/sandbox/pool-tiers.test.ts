/**
 * sandbox.pool-tiers on the process backend (its cold and hot tiers; the durable ones need snapshots: the
 * qemu run itself is rigs/pool-tiers.rig.yaml, smoke-tested by hand): rounds of `concurrency` acquires,
 * the hot tier full before each, every acquire one sample served by its cell's tier.
 */
import { describe, expect, it } from 'vitest';
import { poolTiersWorkload } from '../../../../runner/workloads/sandbox/pool-tiers.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { testCell } from '../../../helpers/cell-context.ts';

const metrics = { acquire_ready_ms: { clock: 'acquire() called -> the agent answered a ping' } };

describe('sandbox.pool-tiers', () => {
  it('hot: rounds of `concurrency` acquires, each a sample served by the hot tier, the pool refilled before each round', async () => {
    const { ctx } = testCell({ workload: 'sandbox.pool-tiers', params: { backend: 'process', tier: 'hot' }, sampling: { concurrency: 3, warmup: 0, iterations: 7 }, metrics });
    const result = await poolTiersWorkload.run(ctx);
    expect(result.samples.acquire_ready_ms).toHaveLength(7);
    // 3 + 3 + 1: the last round is what is left.
    expect(result.facts).toMatchObject({ tier: 'hot', rounds: 3, refill_overlaps_timing: true, pool_size: 3, acquired: 7, waited: 0, served: { hot: 7, durable: 0, cold: 0 }, restored: 0 });
    expect(liveSandboxes()).toEqual([]);
  });

  it('cold: a create per acquire, no pool', async () => {
    const { ctx } = testCell({ workload: 'sandbox.pool-tiers', params: { backend: 'process', tier: 'cold' }, sampling: { concurrency: 2, warmup: 1, iterations: 4 }, metrics });
    const result = await poolTiersWorkload.run(ctx);
    expect(result.samples.acquire_ready_ms).toHaveLength(4);
    expect(result.facts).toMatchObject({ tier: 'cold', rounds: 3, refill_overlaps_timing: false });
    expect(liveSandboxes()).toEqual([]);
  });

  it('skips a durable tier on a backend without snapshot/restore, saying so; its cold and hot tiers run', async () => {
    for (const tier of ['durable', 'durable-hot']) expect(await poolTiersWorkload.skipReason!({ backend: 'process', tier })).toBe('backend process has no snapshot/restore: no durable tier');
    expect(await poolTiersWorkload.skipReason!({ backend: 'process', tier: 'hot' })).toBeNull();
  });

  it('fills acquire_ready_ms, timed in ms, and nothing else', () => {
    const fill = poolTiersWorkload.cannotFill!;
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'acquire_ready_ms' } as never)).toBeNull();
    expect(fill({ unit: 'ms', better: 'lower', kind: 'counted', clock: 'n' } as never, { name: 'acquire_ready_ms' } as never)).toMatch(/a timed metric in ms/);
    expect(fill({ unit: 'ms', better: 'lower', clock: 'a -> b' } as never, { name: 'first_output_ms' } as never)).toMatch(/one of the metrics sandbox.pool-tiers fills \(acquire_ready_ms\)/);
  });
});
