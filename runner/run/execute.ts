/**
 * Carrying out a run plan: each cell in order is skipped with its reason or
 * measured by its workload, progress is reported, and whatever sandboxes a
 * workload could not tear down are reaped at the end. What comes out is what
 * was measured; the artifact is assembled from it elsewhere.
 */
import type { CellResult } from '../artifact/schema.ts';
import { missingRequirement, type HostFacts } from '../rig/requirements.ts';
import { WorkloadError, type CellContext, type CellSampling, type WorkloadResult } from '../contract/workload.ts';
import { destroyAllSandboxes } from '../../sandbox-core/cleanup.ts';
import { metricResults, notRun } from './cell-result.ts';
import type { PlannedCell, RunPlan } from './plan.ts';
import { outcomeLine, type ProgressSink } from './progress.ts';

export interface Executed {
  cells: CellResult[];
  /** Tool versions the workloads reported (a spawner, a bare tool). */
  tools: Record<string, string | null>;
  /** Set when rigor itself failed (not the measured thing): the run is `failed`. */
  failure?: string;
}

export async function executePlan(plan: RunPlan, context: { facts: HostFacts; signal: AbortSignal; progress: ProgressSink }): Promise<Executed> {
  const { rig } = plan;
  const cells: CellResult[] = [];
  const tools: Record<string, string | null> = {};
  let failure: string | undefined;
  // A reason shared by several cells (a backend missing) is printed in full once, then referred to.
  const reasonsSaid = new Map<string, string>();
  for (const planned of plan.cells) {
    if (context.signal.aborted) {
      cells.push(notRun(rig, planned, 'skipped', 'the run was interrupted before this cell'));
      continue;
    }
    if (failure) {
      cells.push(notRun(rig, planned, 'skipped', 'the run failed before this cell'));
      continue;
    }
    try {
      const result = await runCell(plan, planned, context);
      Object.assign(tools, result.tools);
      cells.push(result.cell);
      if (result.report) context.progress.cellEnd(planned.index, plan.cells.length, planned.cell.id, outcomeLine(result.cell, reasonsSaid));
    } catch (error) {
      // A fault of rigor itself, not of the measured thing: keep what was measured, say what broke.
      failure = `cell ${planned.cell.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      cells.push(notRun(rig, planned, 'failed', failure));
    }
  }
  context.progress.close();
  // Whatever a workload could not tear down (an interrupt mid-create): reap it before the artifact is written.
  const reclaimed = await destroyAllSandboxes();
  if (reclaimed.failed.length > 0) failure ??= `could not destroy sandboxes: ${reclaimed.failed.map((f) => `${f.id}: ${f.error}`).join('; ')}`;
  return { cells, tools, ...(failure ? { failure } : {}) };
}

/**
 * Whether a cell can be measured: its result when it cannot (unknown workload,
 * bad params, a requirement missing, a backend the host lacks), null when it can.
 * Throws for a fault of rigor itself (params that could not be substituted).
 */
export async function checkCell(plan: RunPlan, planned: PlannedCell, facts: HostFacts): Promise<{ cell: CellResult; report: boolean } | null> {
  const { rig } = plan;
  const { cell, workload } = planned;
  if (!workload) {
    return { cell: notRun(rig, planned, 'failed', `unknown workload ${JSON.stringify(cell.params.workload)} in this cell (rigor list shows the workloads)`), report: false };
  }
  if (planned.paramsError) throw planned.paramsError;
  const params = planned.params!;
  if (planned.problems.length > 0) return { cell: notRun(rig, planned, 'failed', `invalid params: ${planned.problems.join('; ')}`), report: true };
  const missing = (await missingRequirement(planned.requirements, params, facts)) ?? (await workload.skipReason?.(params)) ?? null;
  if (missing) return { cell: notRun(rig, planned, 'skipped', missing), report: true };
  return null;
}

/** The context a workload measures a cell in, with the sampling given (the plan's, or one round's). */
export function cellContext(
  plan: RunPlan,
  planned: PlannedCell,
  sampling: CellSampling,
  context: { signal: AbortSignal; progress: ProgressSink },
): CellContext {
  return {
    rig: plan.rig,
    cellId: planned.cell.id,
    params: planned.params!,
    sampling,
    metrics: Object.keys(plan.rig.metrics),
    signal: context.signal,
    progress: (p) => context.progress.sample(p),
    log: (message) => context.progress.note(`  ${message}`),
    ...(plan.scratch !== undefined ? { scratch: plan.scratch } : {}),
  };
}

async function runCell(
  plan: RunPlan,
  planned: PlannedCell,
  context: { facts: HostFacts; signal: AbortSignal; progress: ProgressSink },
): Promise<{ cell: CellResult; report: boolean; tools?: Record<string, string | null> }> {
  const { rig } = plan;
  const { cell, sampling } = planned;
  const unmeasured = await checkCell(plan, planned, context.facts);
  if (unmeasured) return unmeasured;
  const workload = planned.workload!;

  context.progress.cellStart(planned.index, plan.cells.length, cell.id, sampling.iterations);
  const startedAt = new Date();
  const started = performance.now();
  let outcome: WorkloadResult;
  let status: CellResult['status'] = 'ok';
  let reason: string | undefined;
  try {
    outcome = await workload.run(cellContext(plan, planned, sampling, context));
  } catch (error) {
    status = 'failed';
    reason = error instanceof Error ? error.message : String(error);
    outcome = error instanceof WorkloadError && error.partial ? error.partial : { samples: {} };
  }
  const result: CellResult = {
    id: cell.id,
    params: cell.params,
    status,
    ...(reason ? { reason } : {}),
    concurrency: sampling.concurrency,
    warmup: sampling.warmup,
    started_at: startedAt.toISOString(),
    duration_s: round((performance.now() - started) / 1000, 3),
    ...(outcome.truncated ? { truncated: outcome.truncated } : {}),
    ...(outcome.facts ? { facts: outcome.facts } : {}),
    metrics: metricResults(rig, outcome.samples, outcome.batch_iterations),
  };
  return { cell: result, report: true, tools: outcome.tools };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
