/**
 * In-process micro-benchmarks, timed in batches as criterion.rs does (linear
 * sampling): batch i of n runs i·d calls back to back between two reads of the
 * monotonic clock, so a call far shorter than the clock's resolution is still
 * measured. Each batch is one raw sample — its time per call, with its calls in
 * `batch_iterations` — and the cell's value is the slope fitted over the
 * batches (runner/stats/slope.ts), so an artifact keeps batches, not calls.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { describeFound } from '../../base/errors.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { budgetReached, timerDelay } from '../sampling/loop.ts';

export type MicroTask = () => unknown | Promise<unknown>;

export interface MicroDefinition {
  name: string;
  description: string;
  /** The workload's own params besides `task`, as the fields of its params schema. */
  params?: z.ZodRawShape;
  /** The names tasks() gives its functions, so that `params.task` is checked when the rig is loaded; unchecked until the cell runs without them. */
  taskNames?: readonly string[];
  /** The functions a cell can time, by name; `params.task` picks one (it may be left out when there is only one). */
  tasks(params: Record<string, unknown>): Record<string, MicroTask>;
}

/** The clock every batch is timed with, as the cell's facts name it. */
export const MICRO_CLOCK = 'process.hrtime.bigint()';

/** The first batch outlasts this many steps of the clock, so a step is at most 0.1% of any batch. */
export const MIN_BATCH_RESOLUTIONS = 1000;

/** Linear sampling (criterion.rs): batch i (1-based) of `count` runs i·d calls. */
export function linearBatches(count: number, d: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + 1) * d);
}

/**
 * d, the calls of the first batch: enough that it outlasts MIN_BATCH_RESOLUTIONS
 * steps of the clock and, when min_seconds is set, enough that the `count`
 * batches together, d·count(count+1)/2 calls, last about min_seconds.
 */
export function batchUnit(perCallNs: number, resolutionNs: number, count: number, minSeconds: number): number {
  const aboveResolution = (MIN_BATCH_RESOLUTIONS * resolutionNs) / perCallNs;
  const fillsMinSeconds = (minSeconds * 1e9) / ((perCallNs * count * (count + 1)) / 2);
  return Math.max(1, Math.ceil(Math.max(aboveResolution, fillsMinSeconds)));
}

/** The smallest step seen between two differing reads of the clock, over `tries` tries, in ns. */
export function clockResolutionNs(tries = 100): number {
  let smallest = Infinity;
  for (let i = 0; i < tries; i++) {
    const start = process.hrtime.bigint();
    let now = process.hrtime.bigint();
    while (now === start) now = process.hrtime.bigint();
    smallest = Math.min(smallest, Number(now - start));
  }
  return smallest;
}

/** Holds the last call's result, so the calls' work cannot be dropped as unused. */
let sink: unknown;

/** Runs `calls` calls back to back and returns how long they took, in ns. */
type Batch = (calls: number) => Promise<number>;

function syncBatch(task: MicroTask): Batch {
  return async (calls) => {
    let last: unknown;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) last = task();
    const elapsed = process.hrtime.bigint() - start;
    sink = last;
    return Number(elapsed);
  };
}

function asyncBatch(task: MicroTask): Batch {
  return async (calls) => {
    let last: unknown;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) last = await task();
    const elapsed = process.hrtime.bigint() - start;
    sink = last;
    return Number(elapsed);
  };
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';

function pickTask(tasks: Record<string, MicroTask>, task: unknown): string | string[] {
  const names = Object.keys(tasks);
  if (task === undefined && names.length === 1) return names[0] as string;
  if (typeof task === 'string' && names.includes(task)) return task;
  return [`params.task: expected one of ${names.join(', ')}, found ${describeFound(task)}`];
}

/** `params.task`: one of the names (optional when there is one), any string when they are not declared. */
function taskParam(names: readonly string[] | undefined) {
  if (!names || names.length === 0) return z.string().optional();
  const task = z.enum(names as [string, ...string[]]);
  return names.length === 1 ? task.optional() : task;
}

/**
 * A workload timing one in-process function per cell, in batches. Sampling:
 * warmup -> calls run and discarded; iterations -> the number of batches;
 * min_seconds -> raises d so the batches together last about that long;
 * max_seconds and interrupts stop after the batch in flight. Samples (ms per
 * call of each batch) go under the rig's first metric. timeout_s is checked
 * after each batch, on its time per call: a synchronous function cannot be
 * preempted.
 */
export function microWorkload(def: MicroDefinition): Workload {
  return {
    name: def.name,
    description: def.description,
    batched: true,
    paramsSchema: z.strictObject({ ...def.params, task: taskParam(def.taskNames) }),
    run: (ctx) => runMicro(def, ctx),
  };
}

async function runMicro(def: MicroDefinition, ctx: CellContext): Promise<WorkloadResult> {
  const tasks = def.tasks(ctx.params);
  const picked = pickTask(tasks, ctx.params.task);
  if (Array.isArray(picked)) throw new WorkloadError(picked.join('\n'));
  const task = tasks[picked] as MicroTask;
  const { warmup, iterations, min_seconds, max_seconds, timeout_s } = ctx.sampling;
  const metric = ctx.metrics[0] as string;

  let stoppedBy: 'interrupt' | 'budget' | undefined;
  const onInterrupt = () => (stoppedBy ??= 'interrupt');
  if (ctx.signal.aborted) onInterrupt();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  const budget = setTimeout(() => (stoppedBy ??= 'budget'), timerDelay(max_seconds));

  const sizes: number[] = [];
  const perCallMs: number[] = [];
  const facts: Record<string, unknown> = { task: picked, clock: MICRO_CLOCK };
  const outcome = (): WorkloadResult => ({ samples: { [metric]: perCallMs }, batch_iterations: { [metric]: sizes }, facts });
  const tooSlow = (ns: number, calls: number, what: string) => {
    if (ns / calls > timeout_s * 1e9) {
      const each = (ns / calls / 1e6).toFixed(1);
      throw new WorkloadError(`${what} of ${picked} took ${each} ms a call, longer than timeout_s (${timeout_s} s)`, outcome());
    }
  };
  const failed = (error: unknown) =>
    error instanceof WorkloadError ? error : new WorkloadError(`task ${picked} threw: ${error instanceof Error ? error.message : String(error)}`, outcome());

  try {
    // The first call says whether the task is asynchronous; it and the warmup calls are discarded.
    const start = process.hrtime.bigint();
    const first = task();
    if (isThenable(first)) await first;
    tooSlow(Number(process.hrtime.bigint() - start), 1, 'the first call');
    facts.async = isThenable(first);
    const batch = isThenable(first) ? asyncBatch(task) : syncBatch(task);
    if (warmup > 0) {
      tooSlow(await batch(warmup), warmup, 'the warmup');
      ctx.progress({ phase: 'warmup', done: warmup, total: warmup });
    }

    // Calibration: 1, 2, 4, ... calls until a round outlasts the resolution threshold; its time per call picks d.
    const resolution = clockResolutionNs();
    const threshold = MIN_BATCH_RESOLUTIONS * resolution;
    let calls = 1;
    let elapsed = await batch(calls);
    while (elapsed < threshold && stoppedBy === undefined) {
      tooSlow(elapsed, calls, 'calibration');
      calls *= 2;
      elapsed = await batch(calls);
      await nextTurn();
    }
    // The clock cannot tell apart less than one step: a round it saw as 0 ns counts as 1.
    const perCallNs = Math.max(elapsed, 1) / calls;
    const d = batchUnit(perCallNs, resolution, iterations, min_seconds);
    Object.assign(facts, { clock_resolution_ns: resolution, calibration_ns_per_call: perCallNs, batch_unit: d });

    for (const size of linearBatches(iterations, d)) {
      if (stoppedBy !== undefined) break;
      const ns = await batch(size);
      sizes.push(size);
      perCallMs.push(ns / 1e6 / size);
      ctx.progress({ phase: 'sample', done: sizes.length, total: iterations });
      tooSlow(ns, size, `batch ${sizes.length}`);
      // A synchronous batch holds the event loop: let the budget timer and Ctrl-C in between batches.
      await nextTurn();
    }
  } catch (error) {
    throw failed(error);
  } finally {
    clearTimeout(budget);
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
  const truncated =
    sizes.length === iterations ? undefined
    : stoppedBy === 'interrupt' ? 'interrupted'
    : budgetReached(max_seconds, sizes.length, iterations, 'batches');
  return { ...outcome(), ...(truncated ? { truncated } : {}) };
}
