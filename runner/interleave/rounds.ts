/**
 * Carrying out a round plan: a warmup round first (each slot's warmup runs,
 * discarded, in shuffled order — a slot that cannot run fails here, before any
 * sample is kept), then every round takes k samples of every slot in that
 * round's order. Each kept sample is tagged with its round so a paired
 * statistic can be computed per round. The rounds stop early on an interrupt
 * or when the time budget is spent, always at a round's end so every finished
 * round holds every slot.
 */
import type { Interleave } from '../artifact/schema.ts';
import { WorkloadError, type CellSampling, type WorkloadResult } from '../contract/workload.ts';
import type { RoundPlan } from './schedule.ts';

export interface RoundSlot {
  key: string;
  /** Warmup runs before the first round (at least one is done, to find a slot that cannot run). */
  warmup: number;
  /** Take `count` samples after `warmup` discarded runs. */
  take(count: number, warmup: number, signal: AbortSignal): Promise<WorkloadResult>;
}

export interface SlotOutcome {
  samples: Record<string, number[]>;
  /** Round (0-based) of each sample, per metric, parallel to samples. */
  rounds: Record<string, number[]>;
  /** A batched workload's calls per batch, per metric, parallel to samples. */
  batchIterations: Record<string, number[]>;
  facts?: Record<string, unknown>;
  tools: Record<string, string | null>;
  /** Set when the measured thing failed (WorkloadError): the slot stops, its samples so far are kept. */
  failed?: string;
  truncated?: string;
}

export interface RoundsOutcome {
  slots: Map<string, SlotOutcome>;
  /** Rounds finished (every slot took its samples). */
  roundsDone: number;
  /** The order actually run: the plan's, cut where the run stopped. */
  order: string[][];
  /** Why the rounds stopped before the plan's end. */
  truncated?: string;
}

export interface RoundEvents {
  /** Before each take: round -1 is the warmup round. */
  take?(round: number, rounds: number, position: number, slots: number, key: string): void;
}

/** A warmup-round failure: the named slot could not run at all; nothing was measured. */
export class SlotUnusable extends Error {
  override name = 'SlotUnusable';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
  }
}

export async function runRounds(
  slots: readonly RoundSlot[],
  plan: RoundPlan,
  options: {
    signal: AbortSignal;
    maxSeconds?: number;
    events?: RoundEvents;
    /** A slot that fails its warmup is marked failed and left out (run --interleave) instead of ending the run (rigor ab). */
    dropUnusable?: boolean;
  },
): Promise<RoundsOutcome> {
  const byKey = new Map(slots.map((slot) => [slot.key, slot]));
  const outcomes = new Map<string, SlotOutcome>(slots.map((slot) => [slot.key, { samples: {}, rounds: {}, batchIterations: {}, tools: {} }]));
  const { signal } = options;
  const started = performance.now();

  // The warmup round, in the first round's order.
  const warmupOrder = plan.order[0] ?? [];
  for (const [position, key] of warmupOrder.entries()) {
    if (signal.aborted) return { slots: outcomes, roundsDone: 0, order: [], truncated: 'interrupted' };
    const slot = byKey.get(key)!;
    options.events?.take?.(-1, plan.rounds, position, warmupOrder.length, key);
    try {
      await slot.take(1, Math.max(0, slot.warmup - 1), signal);
    } catch (error) {
      if (signal.aborted) return { slots: outcomes, roundsDone: 0, order: [], truncated: 'interrupted' };
      const reason = error instanceof Error ? error.message : String(error);
      if (!options.dropUnusable || !(error instanceof WorkloadError)) throw new SlotUnusable(key, reason);
      outcomes.get(key)!.failed = reason;
    }
  }

  const order: string[][] = [];
  let truncated: string | undefined;
  let roundsDone = 0;
  for (let round = 0; round < plan.rounds; round++) {
    if (signal.aborted) {
      truncated = 'interrupted';
      break;
    }
    const elapsed = (performance.now() - started) / 1000;
    if (options.maxSeconds !== undefined && elapsed >= options.maxSeconds) {
      truncated = `max_seconds (${options.maxSeconds} s) reached after ${round} of ${plan.rounds} rounds`;
      break;
    }
    const ran: string[] = [];
    for (const [position, key] of plan.order[round]!.entries()) {
      const outcome = outcomes.get(key)!;
      if (outcome.failed) continue;
      options.events?.take?.(round, plan.rounds, position, plan.order[round]!.length, key);
      ran.push(key);
      let result: WorkloadResult;
      try {
        result = await byKey.get(key)!.take(plan.perRound[key]!, 0, signal);
      } catch (error) {
        if (!(error instanceof WorkloadError)) throw error;
        outcome.failed = error.message;
        result = error.partial ?? { samples: {} };
      }
      record(outcome, result, round);
      if (signal.aborted) break;
    }
    order.push(ran);
    // A round cut by Ctrl-C is in the order (its samples are kept) but not done.
    if (signal.aborted) {
      truncated = 'interrupted';
      break;
    }
    roundsDone++;
  }
  return { slots: outcomes, roundsDone, order, ...(truncated ? { truncated } : {}) };
}

function record(outcome: SlotOutcome, result: WorkloadResult, round: number): void {
  for (const [metric, values] of Object.entries(result.samples)) {
    (outcome.samples[metric] ??= []).push(...values);
    (outcome.rounds[metric] ??= []).push(...values.map(() => round));
  }
  for (const [metric, calls] of Object.entries(result.batch_iterations ?? {})) (outcome.batchIterations[metric] ??= []).push(...calls);
  if (result.facts) outcome.facts = { ...outcome.facts, ...result.facts };
  Object.assign(outcome.tools, result.tools ?? {});
  if (result.truncated && result.truncated !== 'interrupted') outcome.truncated = result.truncated;
}

/** One round's sampling: k samples after `warmup` runs, no minimum time, the cell's other settings kept. */
export function roundSampling(sampling: CellSampling, count: number, warmup: number): CellSampling {
  return { ...sampling, warmup, iterations: count, max_iterations: count, min_seconds: 0 };
}

/** The artifact's record of an interleaved run: the plan, and how far the rounds got (none when they never started). */
export function interleaveRecord(plan: RoundPlan, outcome: RoundsOutcome | undefined): Interleave {
  return {
    seed: plan.seed,
    rounds_planned: plan.rounds,
    rounds_done: outcome?.roundsDone ?? 0,
    per_round: plan.perRound,
    warmup_round: true,
    order: outcome?.order ?? [],
    ...(outcome?.truncated ? { truncated: outcome.truncated } : {}),
  };
}

/** Tool versions every slot's workload reported, merged. */
export function slotTools(outcome: RoundsOutcome | undefined): Record<string, string | null> {
  const tools: Record<string, string | null> = {};
  for (const slot of outcome?.slots.values() ?? []) Object.assign(tools, slot.tools);
  return tools;
}
