/**
 * `sandbox.snapshot`: per sample, side by side, a cold boot of the guest (create → ready), a save of it
 * (snapshot(): save time, allocated size of the directory), and a restore of that snapshot (restore →
 * ready), each checked with an exec. A backend without restore is skipped with its reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendUsesKvm, capabilitySkipReason, checkExec, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { fillsByName } from './metric-fill.ts';
import { teardown } from './teardown.ts';

const COMMAND = ['echo', 'hello'];

export const snapshotWorkload: Workload = {
  name: 'sandbox.snapshot',
  description: 'cold boot → ready, snapshot() save time and allocated size, restore → ready, side by side per sample (params.backend)',
  paramsSchema: sandboxParams(),
  validateParams: variantProblems,
  skipReason: (params) => capabilitySkipReason(params, 'snapshot'),
  usesKvm: backendUsesKvm,
  // image_mib: blocks allocated, not the logical size.
  cannotFill: fillsByName('sandbox.snapshot', ['cold_ready_ms', 'save_ms', 'restore_ready_ms'], { image_mib: 'MiB' }),
  run: runSnapshot,
};

async function runSnapshot(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const spec = specOf(ctx.params);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const root = mkdtempSync(join(tmpdir(), 'rigor-snapshot-rig-'));
  let facts: Record<string, unknown> = {};
  let n = 0;
  try {
    const result = await sampleLoop(
      ctx,
      failuresAsWorkloadErrors(async () => {
        const dir = join(root, `s${n++}`);
        const coldStart = performance.now();
        const cold = await backend.create(spec, { signal: ctx.signal });
        let restored: Awaited<ReturnType<NonNullable<typeof backend.restore>>> | undefined;
        try {
          const coldReady = performance.now() - coldStart;
          checkExec(COMMAND, await cold.exec({ argv: COMMAND, timeoutMs }), 'hello\n');
          const saved = await cold.snapshot!(dir);
          await cold.destroy();
          const restoreStart = performance.now();
          restored = await backend.restore!(dir, { signal: ctx.signal });
          const restoreReady = performance.now() - restoreStart;
          checkExec(COMMAND, await restored.exec({ argv: COMMAND, timeoutMs }), 'hello\n');
          if (Object.keys(facts).length === 0) facts = { cold: sandboxFacts(cold), restored_phases: restored.phases };
          return { cold_ready_ms: coldReady, save_ms: saved.saveMs, image_mib: saved.allocatedBytes / 2 ** 20, restore_ready_ms: restoreReady };
        } finally {
          await teardown([() => cold.destroy(), () => restored?.destroy(), () => rmSync(dir, { recursive: true, force: true })]);
        }
      }),
    );
    return { ...result, facts: { ...result.facts, ...facts } };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
