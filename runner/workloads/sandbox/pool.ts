/**
 * `sandbox.pool`: acquire → first output of exec from a warm pool of paused
 * sandboxes (params.pool_size, default twice the concurrency), refilled in the
 * background. Before each sample (untimed) the released sandboxes are gone and
 * the pool is full again, so every sample measures an acquire from a warm,
 * quiet pool; facts.waited counts acquires that found it empty anyway.
 */
import { sampleLoop } from '../../sampling/loop.ts';
import { WarmPool } from '../../../sandbox-core/pool/warm-pool.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendSkipReason, backendUsesKvm, checkExec, preparedBackend, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { wholeNumber } from '../param-checks.ts';

const COMMAND = ['echo', 'hello'];

export const poolWorkload: Workload = {
  name: 'sandbox.pool',
  description: 'acquire from a warm pool of paused sandboxes → first output of exec (params.backend, params.pool_size)',
  paramsSchema: sandboxParams().extend({ pool_size: wholeNumber({ unit: 'sandboxes' }).optional() }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runPool,
};

async function runPool(ctx: CellContext): Promise<WorkloadResult> {
  const concurrency = ctx.sampling.concurrency;
  const size = (ctx.params.pool_size as number | undefined) ?? 2 * concurrency;
  const pool = new WarmPool(await preparedBackend(ctx), { size, spec: specOf(ctx.params) });
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  // Released sandboxes are destroyed off the timed path; the cell waits for them at the end.
  const releases: Promise<void>[] = [];
  try {
    await pool.fill();
    const result = await sampleLoop(
      ctx,
      failuresAsWorkloadErrors(async () => {
        const start = performance.now();
        const { sandbox, times } = await pool.acquire();
        try {
          const exec = await sandbox.exec({ argv: COMMAND, timeoutMs });
          const firstOutput = performance.now() - start;
          checkExec(COMMAND, exec, 'hello\n');
          return { acquire_ready_ms: times.ready, first_output_ms: firstOutput, waited_ms: times.taken };
        } finally {
          releases.push(pool.release(sandbox));
        }
      }),
      // Each sample acquires from a full, quiet pool: released sandboxes gone and the refill done (untimed).
      {
        beforeEach: async () => {
          await Promise.allSettled(releases.splice(0));
          await pool.fill();
        },
      },
    );
    // With concurrency > 1 one run's untimed refill can overlap another's timed acquire: say so.
    return { ...result, facts: { pool_size: size, ...pool.counts, refill_overlaps_timing: concurrency > 1 } };
  } finally {
    await pool.close();
    await Promise.allSettled(releases);
  }
}
