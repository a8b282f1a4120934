/**
 * `sandbox.exec`: one warm sandbox per cell, then repeated exec round trips
 * through its agent. Host clock: exec() called → result decoded; guest clock:
 * request received → reply sent, as the agent saw it. A rig declaring
 * `api_added_ms` pairs, in an e2b cell over rigor's own server, each exec
 * through the API with the same exec on the same sandbox directly.
 */
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import type { ExecRequest, ExecResult, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { Argv, Env } from '../param-checks.ts';
import { backendSkipReason, backendUsesKvm, checkExec, commandOf, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';

export const execWorkload: Workload = {
  name: 'sandbox.exec',
  description: 'exec round trips through the agent of one warm sandbox (params.backend, params.command, params.env)',
  paramsSchema: sandboxParams().extend({ command: Argv.optional(), env: Env.optional() }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runExec,
};

/** Filled by a cell whose sandbox is driven through an API with a direct path beside it (e2b with serve:). */
const API_ADDED = 'api_added_ms';

/**
 * One exec through the API and the same exec on the same sandbox directly, back to back, the
 * order alternating by sample so drift and warm caches fall on both alike; `api_added_ms` is the
 * difference within the sample.
 */
async function pairedSample(sandbox: Sandbox, direct: NonNullable<Sandbox['direct']>, request: ExecRequest, index: number): Promise<Record<string, number>> {
  const command = request.argv;
  const timed = async (run: () => Promise<ExecResult>) => {
    const start = performance.now();
    const exec = await run();
    const ms = performance.now() - start;
    checkExec(command, exec);
    return ms;
  };
  const viaApi = () => timed(() => sandbox.exec(request));
  const directly = () => timed(() => direct.exec(request));
  let api: number;
  let own: number;
  if (index % 2 === 0) {
    api = await viaApi();
    own = await directly();
  } else {
    own = await directly();
    api = await viaApi();
  }
  return { roundtrip_ms: api, direct_roundtrip_ms: own, [API_ADDED]: api - own };
}

async function runExec(ctx: CellContext): Promise<WorkloadResult> {
  const command = commandOf(ctx.params, ['true']);
  // Every exec's environment, when given (else the agent's default PATH only); an e2b cell passes it as the command's envs.
  const env = ctx.params.env === undefined ? undefined : Object.fromEntries(Object.entries(ctx.params.env as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const request: ExecRequest = { argv: command, timeoutMs: ctx.sampling.timeout_s * 1000, ...(env ? { env } : {}) };
  const sandbox = await (await preparedBackend(ctx)).create(specOf(ctx.params), { signal: ctx.signal });
  try {
    // A cell of a backend with no direct path (every one but e2b with serve:) leaves the paired metrics empty.
    const direct = ctx.metrics.includes(API_ADDED) ? sandbox.direct : undefined;
    const result = await sampleLoop(
      ctx,
      failuresAsWorkloadErrors(async (index) => {
        if (direct) return pairedSample(sandbox, direct, request, index);
        const start = performance.now();
        const exec = await sandbox.exec(request);
        const roundTrip = performance.now() - start;
        checkExec(command, exec);
        // A backend behind an API (e2b) has no guest clock to give: its cells have the host's round trip only.
        if (Number.isNaN(exec.guest.exited)) return { roundtrip_ms: roundTrip } as Record<string, number>;
        return { roundtrip_ms: roundTrip, guest_ms: exec.guest.exited - exec.guest.received, spawn_to_exit_ms: exec.guest.exited - exec.guest.spawned };
      }),
    );
    return { ...result, facts: { ...sandboxFacts(sandbox), command, ...(env ? { env } : {}), ready_ms: sandbox.phases.ready } };
  } finally {
    await sandbox.destroy();
  }
}
