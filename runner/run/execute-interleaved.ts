/**
 * Carrying out a run plan in shuffled rounds (`rigor run --interleave`): every
 * cell that can run takes k samples per round, the cells in a new seeded order
 * each round, so slow drift of a shared host lands on every cell alike and
 * ratios between cells of one run (baseline-tools, harness) share it. The
 * artifact records the mode, the seed and every round's order.
 */
import type { CellResult, Interleave } from '../artifact/schema.ts';
import type { HostFacts } from '../rig/requirements.ts';
import { destroyAllSandboxes } from '../../sandbox-core/cleanup.ts';
import { interleaveRecord, roundSampling, runRounds, slotTools, type RoundSlot } from '../interleave/rounds.ts';
import { planRounds, type RoundOptions } from '../interleave/schedule.ts';
import { metricResults, notRun } from './cell-result.ts';
import { cellContext, checkCell, type Executed } from './execute.ts';
import type { PlannedCell, RunPlan } from './plan.ts';
import { outcomeLine, type ProgressSink } from './progress.ts';

export interface InterleaveOptions extends RoundOptions {
  /** Stop at the end of the round in which this many seconds have passed. */
  maxSeconds?: number;
}

export async function executeInterleaved(
  plan: RunPlan,
  context: { facts: HostFacts; signal: AbortSignal; progress: ProgressSink },
  options: InterleaveOptions,
): Promise<Executed & { interleave: Interleave }> {
  const { rig } = plan;
  const settled = new Map<string, CellResult>();
  const ready: PlannedCell[] = [];
  let failure: string | undefined;
  const reasonsSaid = new Map<string, string>();
  for (const planned of plan.cells) {
    try {
      const unmeasured = await checkCell(plan, planned, context.facts);
      if (unmeasured) {
        settled.set(planned.cell.id, unmeasured.cell);
        if (unmeasured.report) context.progress.cellEnd(planned.index, plan.cells.length, planned.cell.id, outcomeLine(unmeasured.cell, reasonsSaid));
      } else ready.push(planned);
    } catch (error) {
      failure = `cell ${planned.cell.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      settled.set(planned.cell.id, notRun(rig, planned, 'failed', failure));
    }
  }

  const roundPlan = planRounds(
    ready.map((planned) => ({ key: planned.cell.id, iterations: planned.sampling.iterations })),
    options,
  );
  const started = new Map<string, { at: Date; t: number; seconds: number }>();
  const slots: RoundSlot[] = ready.map((planned) => ({
    key: planned.cell.id,
    warmup: planned.sampling.warmup,
    take: async (count, warmup, signal) => {
      const clock = started.get(planned.cell.id) ?? { at: new Date(), t: 0, seconds: 0 };
      started.set(planned.cell.id, clock);
      const t0 = performance.now();
      try {
        return await planned.workload!.run(cellContext(plan, planned, roundSampling(planned.sampling, count, warmup), { signal, progress: quietSampling(context.progress) }));
      } finally {
        clock.seconds += (performance.now() - t0) / 1000;
      }
    },
  }));

  let outcome: Awaited<ReturnType<typeof runRounds>> | undefined;
  if (!failure && ready.length > 0) {
    try {
      outcome = await runRounds(slots, roundPlan, {
        signal: context.signal,
        ...(options.maxSeconds !== undefined ? { maxSeconds: options.maxSeconds } : {}),
        dropUnusable: true,
        events: { take: (round, rounds, position, count, key) => context.progress.status(roundLine(round, rounds, position, count, key)) },
      });
    } catch (error) {
      failure = `interleaved rounds: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    }
  }
  context.progress.close();

  const cells = plan.cells.map((planned): CellResult => {
    const done = settled.get(planned.cell.id);
    if (done) return done;
    const slot = outcome?.slots.get(planned.cell.id);
    if (!slot) return notRun(rig, planned, 'skipped', failure ? 'the run failed before this cell' : 'the run was interrupted before this cell');
    const clock = started.get(planned.cell.id);
    const truncated = slot.truncated ?? outcome?.truncated;
    return {
      id: planned.cell.id,
      params: planned.cell.params,
      status: slot.failed ? 'failed' : 'ok',
      ...(slot.failed ? { reason: slot.failed } : {}),
      concurrency: planned.sampling.concurrency,
      warmup: planned.sampling.warmup,
      ...(clock ? { started_at: clock.at.toISOString(), duration_s: Math.round(clock.seconds * 1000) / 1000 } : {}),
      ...(truncated ? { truncated } : {}),
      ...(slot.facts ? { facts: slot.facts } : {}),
      metrics: metricResults(rig, slot.samples, slot.batchIterations, slot.rounds),
    };
  });

  const reclaimed = await destroyAllSandboxes();
  if (reclaimed.failed.length > 0) failure ??= `could not destroy sandboxes: ${reclaimed.failed.map((f) => `${f.id}: ${f.error}`).join('; ')}`;
  return { cells, tools: slotTools(outcome), interleave: interleaveRecord(roundPlan, outcome), ...(failure ? { failure } : {}) };
}

/** "round 3/20 · 5/8 program=sh,cache=warm"; the warmup round is round 0. */
export function roundLine(round: number, rounds: number, position: number, count: number, key: string): string {
  const which = round < 0 ? 'warmup round' : `round ${round + 1}/${rounds}`;
  return `[${which} · ${position + 1}/${count}] ${key}`;
}

/** Per-sample progress would redraw for every take of k samples: rounds report themselves instead. */
function quietSampling(progress: ProgressSink): ProgressSink {
  return { ...progress, sample: () => {} };
}
