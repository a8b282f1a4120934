/**
 * `sandbox.lifecycle`: one cold sandbox per sample — create() → ready → exec
 * → destroy() — with every phase on the host clock and, for guests, the boot
 * stages on the guest's clock (metrics named stage_<name>); each phase also
 * from the launcher's start (launch_to_<phase>_ms).
 */
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { Argv } from '../param-checks.ts';
import { backendSkipReason, backendUsesKvm, checkExec, commandOf, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';

const DEFAULT_COMMAND = ['echo', 'hello'];

export const lifecycleWorkload: Workload = {
  name: 'sandbox.lifecycle',
  description: 'a cold sandbox per sample: create → ready → exec → destroy, each phase timed (params.backend)',
  paramsSchema: sandboxParams().extend({ command: Argv.optional() }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runLifecycle,
};

async function runLifecycle(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const spec = specOf(ctx.params);
  const command = commandOf(ctx.params, DEFAULT_COMMAND);
  const expectStdout = command.join(' ') === DEFAULT_COMMAND.join(' ') ? 'hello\n' : undefined;
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  let facts: Record<string, unknown> | undefined;
  const result = await sampleLoop(ctx, failuresAsWorkloadErrors(async (_index, signal) => {
    // Only clock reads between create() and destroy() returning: every other step waits until total_ms is taken.
    const start = performance.now();
    const sandbox = await backend.create(spec, { signal });
    let execStart = 0;
    let execEnd = 0;
    let destroyStart = 0;
    let exec: Awaited<ReturnType<typeof sandbox.exec>> | undefined;
    try {
      execStart = performance.now();
      exec = await sandbox.exec({ argv: command, timeoutMs });
      execEnd = performance.now();
    } finally {
      destroyStart = performance.now();
      await sandbox.destroy();
    }
    const end = performance.now();
    checkExec(command, exec, expectStdout);
    facts ??= sandboxFacts(sandbox);
    const values: Record<string, number> = { exec_ms: execEnd - execStart, destroy_ms: end - destroyStart, total_ms: end - start };
    const launched = sandbox.phases.launched;
    for (const [phase, ms] of Object.entries(sandbox.phases)) {
      if (ms === undefined) continue;
      values[`${phase}_ms`] = ms;
      // From the launcher's start: what a boot costs without rigor's own preparation before it.
      if (launched !== undefined && ms > launched) values[`launch_to_${phase}_ms`] = ms - launched;
    }
    for (const stage of sandbox.bootStages) values[`stage_${stage.name}`] = stage.ms;
    return values;
  }));
  return { ...result, facts: { ...facts, command } };
}
