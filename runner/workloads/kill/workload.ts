/**
 * `sandbox.kill`: the kill battery (battery.ts) as a rig cell — one backend,
 * `rigor run <params.rig>` SIGKILLed at seeded random points, one kill per
 * sample. Metrics: `leftovers` and `leftovers_<kind>` (goal 0), what of the
 * killed run was still on the host after its children's parent-death signals
 * and the next run's sweep; `kills_landed` (1 when the run was still going).
 * facts.kills holds every kill: its delay, pid, what the sweep found to do,
 * and each leftover.
 */
import { z } from 'zod';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { WorkloadError } from '../../contract/workload.ts';
import { wholeNumber } from '../param-checks.ts';
import { backendSkipReason, sandboxParams } from '../sandbox/backend-param.ts';
import { LEFTOVER_KINDS } from '../../../sandbox-core/leftovers.ts';
import { runKillBattery } from './battery.ts';

/** `runtime-state` → `runtime_state`: metric names are identifiers. */
export function kindMetric(kind: string): string {
  return `leftovers_${kind.replace('-', '_')}`;
}

const paramsSchema = sandboxParams().extend({
  rig: z.string({ error: 'a rig name (rigs/<name>.rig.yaml) whose workload takes params.backend' }).optional(),
  run_iterations: wholeNumber().optional(),
  seed: wholeNumber({ least: 0 }).optional(),
});

export const killWorkload: Workload = {
  name: 'sandbox.kill',
  description: 'the kill battery: `rigor run <params.rig>` of params.backend SIGKILLed at seeded random points, then the next run; leftovers of the killed run counted by kind',
  paramsSchema,
  skipReason: backendSkipReason,
  cannotFill: (metric) => (metric.kind === 'counted' ? null : 'a counted metric (kind: counted): the battery counts kills and leftovers; it times nothing'),
  run: runKill,
};

async function runKill(ctx: CellContext): Promise<WorkloadResult> {
  const backend = String(ctx.params.backend);
  const seed = (ctx.params.seed as number | undefined) ?? 1;
  let result;
  try {
    result = await runKillBattery({
      rig: (ctx.params.rig as string | undefined) ?? 'lifecycle',
      backend,
      iterations: (ctx.params.run_iterations as number | undefined) ?? 3,
      kills: ctx.sampling.iterations,
      seed,
      signal: ctx.signal,
      timeoutMs: ctx.sampling.timeout_s * 1000,
      log: (message) => ctx.log(message),
    });
  } catch (error) {
    throw new WorkloadError(`${backend}: ${(error as Error).message}`);
  }
  const samples: Record<string, number[]> = { leftovers: [], kills_landed: [] };
  for (const kind of LEFTOVER_KINDS) samples[kindMetric(kind)] = [];
  result.kills.forEach((kill, index) => {
    samples.leftovers!.push(kill.leftovers.length);
    samples.kills_landed!.push(kill.landed ? 1 : 0);
    for (const kind of LEFTOVER_KINDS) samples[kindMetric(kind)]!.push(kill.leftovers.filter((leftover) => leftover.kind === kind).length);
    ctx.progress({ phase: 'sample', done: index + 1, total: ctx.sampling.iterations });
  });
  const wanted = Object.fromEntries(Object.entries(samples).filter(([name]) => ctx.metrics.includes(name)));
  return {
    samples: wanted,
    facts: {
      seed,
      reference_run_ms: Math.round(result.runMs),
      kills: result.kills.map((kill) => ({ ...kill, leftovers: kill.leftovers.slice(0, 20) })),
    },
  };
}
