/**
 * `sandbox.escapes`: the escape battery (sandbox-core/isolation/escapes/) as a
 * rig cell — per sample, two fresh sandboxes of the cell's backend and the
 * host's targets, every attempt made from inside the first, each judged on
 * the host. Metrics per category: `attempts_<category>` and
 * `successes_<category>` (goal 0). The `process` backend isolates nothing:
 * it is the battery's control (`control: true`, and only it), on which the
 * attempts safe to make there must succeed — a control that shows no
 * success fails the cell, since the battery could not have seen an escape.
 */
import { z } from 'zod';
import { ESCAPE_ATTEMPTS } from '../../../sandbox-core/isolation/escapes/attempts.ts';
import { confinementOf, countByCategory, ESCAPE_CATEGORIES, openEscapeSession, type AttemptOutcome } from '../../../sandbox-core/isolation/escapes/battery.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { WorkloadError } from '../../contract/workload.ts';
import { backendSkipReason, backendUsesKvm, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from '../sandbox/backend-param.ts';

const paramsSchema = sandboxParams().extend({ control: z.boolean() });

/** The cell's problems beyond the schema: `control` is true for the process backend and for it only. */
function controlProblems(params: Record<string, unknown>): string[] {
  const isProcess = params.backend === 'process';
  if (params.control === isProcess) return [];
  return [
    isProcess
      ? `params.control: expected true with backend process (it isolates nothing: it is the battery's control), found ${String(params.control)}`
      : `params.control: expected false with backend ${String(params.backend)} (only process, which isolates nothing, is the control), found ${String(params.control)}`,
  ];
}

export const escapesWorkload: Workload = {
  name: 'sandbox.escapes',
  description: "the escape battery: host files, host processes, the host's network, capabilities, the interception CA's key, another sandbox, sysctls and the agent's channel, attacked from inside a sandbox and judged on the host (params.backend; params.control: true for process, the control)",
  paramsSchema,
  validateParams: (params) => [...variantProblems(params), ...controlProblems(params)],
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  cannotFill: (metric) => (metric.kind === 'counted' ? null : 'a counted metric (kind: counted): the battery counts attempts and escapes; it times nothing'),
  run: runEscapes,
};

async function runEscapes(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const confinement = confinementOf(backend.name, ctx.params.runtime as string | undefined);
  const samples: Record<string, number[]> = {};
  const runs: Array<{ outcomes: AttemptOutcome[] }> = [];
  let facts: Record<string, unknown> = {};
  const total = ctx.sampling.warmup + ctx.sampling.iterations;
  for (let index = 0; index < total && !ctx.signal.aborted; index++) {
    const session = await openEscapeSession(backend, confinement, specOf(ctx.params), { signal: ctx.signal, execTimeoutMs: ctx.sampling.timeout_s * 1000 });
    const outcomes: AttemptOutcome[] = [];
    try {
      facts = sandboxFacts(session.sandbox);
      for (const attempt of ESCAPE_ATTEMPTS) outcomes.push(await session.run(attempt));
    } finally {
      await session.close();
    }
    runs.push({ outcomes });
    const counts = countByCategory(outcomes);
    if (confinement === 'none' && Object.values(counts).every((count) => count.successes === 0)) {
      throw new WorkloadError('the control (process, no isolation) showed no escape: the battery could not have seen one', { samples, facts: { runs } });
    }
    ctx.log(`battery ${index + 1}: ${ESCAPE_CATEGORIES.map((category) => `${category} ${counts[category].successes}/${counts[category].attempts}`).join(', ')}`);
    if (index < ctx.sampling.warmup) continue;
    for (const category of ESCAPE_CATEGORIES) {
      if (counts[category].attempts === 0) continue;
      (samples[`attempts_${category}`] ??= []).push(counts[category].attempts);
      (samples[`successes_${category}`] ??= []).push(counts[category].successes);
    }
  }
  return { samples, facts: { ...facts, confinement, control: confinement === 'none', runs } };
}
