/**
 * `sandbox.pool-tiers`: acquire → agent ready from each tier of the warm pool (Coppice's four pool designs),
 * in rounds of `concurrency` acquires at once: `cold` (a cold create per acquire, no pool), `hot` (paused
 * sandboxes, refilled by cold boots), `durable` (a snapshot saved once; every acquire restores it) and
 * `durable-hot` (a hot tier in front of the durable one, refilled by restores). Before each round, untimed,
 * the previous round's sandboxes are destroyed and the hot tier is full again; each acquire is one sample,
 * and must be served by the cell's tier, or the cell fails saying which tier served it.
 */
import { sampleLoopBatched, SampleTimeout, timerDelay, type SampleValues } from '../../sampling/loop.ts';
import { WarmPool, type Tier } from '../../../sandbox-core/pool/warm-pool.ts';
import type { Backend, Sandbox, SandboxSpec } from '../../../sandbox-core/backends/types.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../../contract/workload.ts';
import { z } from 'zod';
import { backendSkipReason, backendUsesKvm, capabilitySkipReason, checkExec, preparedBackend, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { fillsByName } from './metric-fill.ts';
import { teardown } from './teardown.ts';

const COMMAND = ['echo', 'hello'];
export const POOL_TIERS = ['cold', 'hot', 'durable', 'durable-hot'] as const;
type PoolTier = (typeof POOL_TIERS)[number];

/** The tier an acquire from a cell's pool must report. */
const SERVED_BY: Record<PoolTier, Tier> = { cold: 'cold', hot: 'hot', durable: 'durable', 'durable-hot': 'hot' };

export const poolTiersWorkload: Workload = {
  name: 'sandbox.pool-tiers',
  description: 'acquire → agent ready from one pool tier (params.tier: cold, hot, durable, durable-hot), concurrency acquires at once per round (params.backend)',
  paramsSchema: sandboxParams().extend({ tier: z.enum(POOL_TIERS) }),
  validateParams: variantProblems,
  skipReason: poolTiersSkipReason,
  usesKvm: backendUsesKvm,
  cannotFill: fillsByName('sandbox.pool-tiers', ['acquire_ready_ms']),
  run: runPoolTiers,
};

/** A durable tier needs snapshots: a backend without them makes those cells skipped with its reason. */
function poolTiersSkipReason(params: Record<string, unknown>): Promise<string | null> {
  return String(params.tier).startsWith('durable') ? capabilitySkipReason(params, 'snapshot', ': no durable tier') : backendSkipReason(params);
}

/** Where a cell's sandboxes come from: a pool of the cell's tier, or (cold) a create per acquire. */
interface Source {
  /** Untimed, before each round: the hot tier full (the durable tier's snapshot saved on the first call). */
  ready(): Promise<void>;
  acquire(): Promise<{ sandbox: Sandbox; readyMs: number; tier: Tier }>;
  release(sandbox: Sandbox): Promise<void>;
  facts(): Record<string, unknown>;
  close(): Promise<void>;
}

function sourceOf(backend: Backend, spec: SandboxSpec, tier: PoolTier, concurrency: number, signal: AbortSignal): Source {
  if (tier === 'cold') {
    return {
      ready: async () => {},
      acquire: async () => {
        const start = performance.now();
        const sandbox = await backend.create(spec, { signal });
        // As a pool's acquire: ready when the agent answered a ping.
        await sandbox.ping().catch(async (error) => {
          await sandbox.destroy().catch(() => {});
          throw error;
        });
        return { sandbox, readyMs: performance.now() - start, tier: 'cold' };
      },
      release: (sandbox) => sandbox.destroy(),
      facts: () => ({}),
      close: async () => {},
    };
  }
  const hot = tier === 'hot' || tier === 'durable-hot';
  const pool = new WarmPool(backend, { size: hot ? concurrency : 0, spec, ...(tier.startsWith('durable') ? { durable: {} } : {}) });
  return {
    ready: () => pool.fill(),
    acquire: async () => {
      const acquired = await pool.acquire();
      return { sandbox: acquired.sandbox, readyMs: acquired.times.ready, tier: acquired.tier };
    },
    release: (sandbox) => pool.release(sandbox),
    facts: () => {
      const { durableFailures, ...counts } = pool.counts;
      return { pool_size: hot ? concurrency : 0, ...counts, durable_failures: durableFailures, ...(pool.durableError ? { durable_error: pool.durableError.message } : {}) };
    },
    close: () => pool.close(),
  };
}

async function runPoolTiers(ctx: CellContext): Promise<WorkloadResult> {
  const tier = ctx.params.tier as PoolTier;
  const concurrency = ctx.sampling.concurrency;
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const source = sourceOf(await preparedBackend(ctx), specOf(ctx.params), tier, concurrency, ctx.signal);
  let rounds = 0;
  try {
    const result = await sampleLoopBatched(ctx, async (first, count, record, signal) => {
      for (let done = 0; done < count && !signal.aborted; ) {
        const size = Math.min(concurrency, count - done);
        try {
          await source.ready();
          record(await timedRound(source, size, first + done, timeoutMs));
        } catch (error) {
          // A sandbox that fails to start, restore or answer is a failure of the measured thing: the cell fails, keeping its samples.
          if (error instanceof WorkloadError || error instanceof SampleTimeout || signal.aborted) throw error;
          throw new WorkloadError(error instanceof Error ? error.message : String(error));
        }
        rounds++;
        done += size;
      }
    });
    // The acquire that empties the hot tier starts its refill (WarmPool.acquire) while the round's other acquires are still timed: say so, as sandbox.pool does.
    const refillOverlapsTiming = tier.endsWith('hot') && concurrency > 1;
    return { ...result, facts: { tier, acquires_per_round: concurrency, rounds, hot_tier_filled_before_each_round: tier.endsWith('hot'), refill_overlaps_timing: refillOverlapsTiming, ...source.facts() } };
  } finally {
    await source.close();
  }

  /**
   * `size` acquires at once, each one sample; then, untimed, each checked (its tier, an exec) and released.
   * A round over timeout_s fails once its acquires settle (each bounded by the backend's ready timeout), so
   * none is left running.
   */
  async function timedRound(from: Source, size: number, firstIndex: number, limitMs: number): Promise<SampleValues[]> {
    let late = false;
    const timer = setTimeout(() => (late = true), timerDelay(limitMs / 1000));
    const settled = await Promise.allSettled(Array.from({ length: size }, () => from.acquire()));
    clearTimeout(timer);
    const acquired = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    try {
      if (late) throw new SampleTimeout(firstIndex);
      const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure) throw new WorkloadError(failure.reason instanceof Error ? failure.reason.message : String(failure.reason));
      for (const { tier: served } of acquired) {
        if (served !== SERVED_BY[tier]) throw new WorkloadError(`an acquire was served by the ${served} tier, not ${SERVED_BY[tier]} (pool: ${JSON.stringify(from.facts())})`);
      }
      for (const { sandbox } of acquired) checkExec(COMMAND, await sandbox.exec({ argv: COMMAND, timeoutMs: limitMs }), 'hello\n');
      return acquired.map(({ readyMs }) => ({ acquire_ready_ms: readyMs }));
    } finally {
      await teardown(acquired.map(({ sandbox }) => () => from.release(sandbox)));
    }
  }
}
