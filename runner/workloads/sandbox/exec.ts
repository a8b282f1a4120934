/**
 * `sandbox.exec`: one warm sandbox per cell, then repeated exec round trips
 * through its agent. Host clock: exec() called → result decoded; guest clock:
 * request received → reply sent, as the agent saw it.
 */
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { Argv } from '../param-checks.ts';
import { backendSkipReason, backendUsesKvm, checkExec, commandOf, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';

export const execWorkload: Workload = {
  name: 'sandbox.exec',
  description: 'exec round trips through the agent of one warm sandbox (params.backend, params.command)',
  paramsSchema: sandboxParams().extend({ command: Argv.optional() }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runExec,
};

async function runExec(ctx: CellContext): Promise<WorkloadResult> {
  const command = commandOf(ctx.params, ['true']);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const sandbox = await (await preparedBackend(ctx)).create(specOf(ctx.params), { signal: ctx.signal });
  try {
    const result = await sampleLoop(
      ctx,
      failuresAsWorkloadErrors(async () => {
        const start = performance.now();
        const exec = await sandbox.exec({ argv: command, timeoutMs });
        const roundTrip = performance.now() - start;
        checkExec(command, exec);
        // A backend behind an API (e2b) has no guest clock to give: its cells have the host's round trip only.
        if (Number.isNaN(exec.guest.exited)) return { roundtrip_ms: roundTrip } as Record<string, number>;
        return { roundtrip_ms: roundTrip, guest_ms: exec.guest.exited - exec.guest.received, spawn_to_exit_ms: exec.guest.exited - exec.guest.spawned };
      }),
    );
    return { ...result, facts: { ...sandboxFacts(sandbox), command, ready_ms: sandbox.phases.ready } };
  } finally {
    await sandbox.destroy();
  }
}
