/**
 * The sampling loop every workload that times "one run at a time" shares:
 * warmup, iterations, min/max time, per-sample timeout, concurrency and
 * interrupt, decided once here so no workload re-invents them. The loop
 * measures nothing itself: `once` returns each run's values, or a batch
 * function runs many back to back and hands their values over as they come.
 */
import type { CellContext, SampleProgress, WorkloadResult } from '../contract/workload.ts';
import { WorkloadError } from '../contract/workload.ts';

/** One run's value per metric, e.g. `{ wall_ms: 0.61 }`. */
export type SampleValues = Record<string, number>;

/**
 * One run: returns one value per metric.
 * `index` counts runs from 0 across the cell, warmups first: a run with
 * `index < ctx.sampling.warmup` is a warmup and its values are discarded.
 * `signal` aborts when the run times out, the cell's budget ends or the run is
 * interrupted; `once` should then stop its work promptly (its result or error
 * is ignored).
 */
export type SampleOnce = (index: number, signal: AbortSignal) => Promise<SampleValues>;

/**
 * `count` runs back to back, indexed `first`, `first + 1`, ... as for SampleOnce.
 * `record` takes the values of runs as they finish, in order, a chunk at a time.
 * The batch enforces timeout_s per run itself and throws SampleTimeout(index)
 * for a run over it. On `signal` it stops promptly; runs recorded before count.
 */
export type SampleBatch = (first: number, count: number, record: (chunk: SampleValues[]) => void, signal: AbortSignal) => Promise<void>;

/** Thrown by a SampleBatch for the run (by loop index) that took longer than timeout_s and was killed. */
export class SampleTimeout extends Error {
  override name = 'SampleTimeout';
  constructor(readonly index: number) {
    super(`run ${index} took longer than timeout_s`);
  }
}

/** Untimed work around every run (warmups included), e.g. `prepare` and `conclude`. Same index and signal as the run. */
export type SampleHook = (index: number, signal: AbortSignal) => Promise<void>;

export interface SampleHooks {
  beforeEach?: SampleHook;
  afterEach?: SampleHook;
}

/** "sample 3" or "warmup run 2" for the run with loop index `index`. */
export function runLabel(index: number, warmup: number): string {
  return index < warmup ? `warmup run ${index + 1}` : `sample ${index - warmup + 1}`;
}

/** After a stop, how long in-flight runs get to wind down (kill their children) before the loop returns without them. */
const SETTLE_GRACE_MS = 3000;

type Stop = { kind: 'interrupt' } | { kind: 'budget' } | { kind: 'error'; error: unknown };

/**
 * Run a cell's samples with `ctx.sampling` (defaults in runner/rig/schema.ts Sampling):
 *
 * - `warmup` runs first, values discarded (run with the same concurrency).
 * - Then samples until `iterations` are taken; while fewer than `min_seconds`
 *   have passed since the first sample started, keep going up to `max_iterations`.
 * - `max_seconds` is the cell's budget counted from the first warmup: when it
 *   runs out, in-flight runs are aborted (not counted) and the result carries
 *   `truncated: "max_seconds (120 s) reached after 37 of 50 samples"`.
 * - A run taking longer than `timeout_s` is aborted and the loop throws
 *   `WorkloadError("sample 12 took longer than timeout_s (30 s)", partial)`.
 * - With `concurrency` c > 1, c runs are in flight at once, each recording its
 *   own values; the number of samples is unchanged. Samples are kept in the
 *   order they finished.
 * - When `ctx.signal` aborts, in-flight runs are aborted and what was measured
 *   is returned with `truncated: "interrupted"`; it never throws for that.
 * - An error from `once` or a hook stops the loop; a WorkloadError is rethrown
 *   with the samples taken so far as its partial result, any other error as is.
 */
export function sampleLoop(ctx: CellContext, once: SampleOnce, hooks: SampleHooks = {}): Promise<WorkloadResult> {
  return runPhases(ctx, (cell) => Promise.all(Array.from({ length: ctx.sampling.concurrency }, () => worker(cell, once, hooks))));
}

/**
 * The same loop, with the same rules, for a workload that can run many runs
 * with nothing of Node's between them: each phase is one batch (plus more for
 * min_seconds), the runs of a batch back to back. Concurrency is 1.
 */
export function sampleLoopBatched(ctx: CellContext, runBatch: SampleBatch): Promise<WorkloadResult> {
  return runPhases(ctx, (cell) => batches(cell, runBatch));
}

/** The state of one cell's sampling, shared by the per-run workers and the batch driver. */
class CellState {
  readonly samples: Record<string, number[]> = {};
  readonly inFlight = new Set<AbortController>();
  stop: Stop | null = null;
  phase: SampleProgress['phase'] = 'warmup';
  nextIndex = 0;
  startedInPhase = 0;
  doneInPhase = 0;
  #sampleStart = 0;
  #wake: () => void = () => {};
  readonly stopped = new Promise<void>((resolve) => (this.#wake = resolve));

  constructor(readonly ctx: CellContext) {}

  halt(reason: Stop): void {
    if (this.stop) return;
    this.stop = reason;
    for (const controller of this.inFlight) controller.abort();
    this.#wake();
  }

  enter(phase: SampleProgress['phase']): void {
    this.phase = phase;
    this.startedInPhase = 0;
    this.doneInPhase = 0;
    this.#sampleStart = performance.now();
  }

  /** How many more runs this phase wants now; past `iterations`, an estimate of what fills min_seconds. */
  wanted(): number {
    const { warmup, iterations, min_seconds, max_iterations } = this.ctx.sampling;
    if (this.phase === 'warmup') return warmup - this.startedInPhase;
    if (this.startedInPhase < iterations) return iterations - this.startedInPhase;
    const left = Math.max(iterations, max_iterations) - this.startedInPhase;
    const elapsed = performance.now() - this.#sampleStart;
    if (left <= 0 || elapsed >= min_seconds * 1000) return 0;
    const perRun = elapsed / Math.max(1, this.doneInPhase);
    return Math.min(left, Math.max(1, Math.ceil((min_seconds * 1000 - elapsed) / perRun)));
  }

  /** Claim `count` runs; returns the loop index of the first. */
  start(count: number): number {
    const first = this.nextIndex;
    this.nextIndex += count;
    this.startedInPhase += count;
    return first;
  }

  record(chunk: SampleValues[]): void {
    if (this.phase === 'sample') for (const values of chunk) for (const name in values) (this.samples[name] ??= []).push(values[name] as number);
    this.doneInPhase += chunk.length;
    this.ctx.progress({ phase: this.phase, done: this.doneInPhase, total: this.#plannedTotal() });
  }

  timeoutError(index: number): WorkloadError {
    return new WorkloadError(`${runLabel(index, this.ctx.sampling.warmup)} took longer than timeout_s (${this.ctx.sampling.timeout_s} s)`);
  }

  #plannedTotal(): number {
    const { warmup, iterations, max_iterations } = this.ctx.sampling;
    if (this.phase === 'warmup') return warmup;
    return this.startedInPhase > iterations ? Math.max(iterations, max_iterations) : iterations;
  }
}

async function worker(cell: CellState, once: SampleOnce, hooks: SampleHooks): Promise<void> {
  while (cell.stop === null && cell.wanted() > 0) {
    const index = cell.start(1);
    const controller = new AbortController();
    cell.inFlight.add(controller);
    try {
      await hooks.beforeEach?.(index, controller.signal);
      if (controller.signal.aborted) return;
      const timer = setTimeout(() => cell.halt({ kind: 'error', error: cell.timeoutError(index) }), timerDelay(cell.ctx.sampling.timeout_s));
      let values: SampleValues;
      try {
        values = await once(index, controller.signal);
      } finally {
        clearTimeout(timer);
      }
      if (controller.signal.aborted) return;
      cell.record([values]);
      await hooks.afterEach?.(index, controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) cell.halt({ kind: 'error', error });
      return;
    } finally {
      cell.inFlight.delete(controller);
    }
  }
}

/** Runs that finished before a stop still count: they were measured whole. */
async function batches(cell: CellState, runBatch: SampleBatch): Promise<void> {
  for (let count = cell.wanted(); cell.stop === null && count > 0; count = cell.wanted()) {
    const first = cell.start(count);
    const controller = new AbortController();
    cell.inFlight.add(controller);
    try {
      await runBatch(first, count, (chunk) => cell.record(chunk), controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) cell.halt({ kind: 'error', error: error instanceof SampleTimeout ? cell.timeoutError(error.index) : error });
      return;
    } finally {
      cell.inFlight.delete(controller);
    }
  }
}

/** The phases, budget, interrupt and result shared by both drivers; `drive` takes runs until the phase wants no more or the cell stops. */
async function runPhases(ctx: CellContext, drive: (cell: CellState) => Promise<unknown>): Promise<WorkloadResult> {
  const { iterations, max_seconds } = ctx.sampling;
  const cell = new CellState(ctx);
  const onInterrupt = () => cell.halt({ kind: 'interrupt' });
  if (ctx.signal.aborted) onInterrupt();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  const budget = setTimeout(() => cell.halt({ kind: 'budget' }), timerDelay(max_seconds));
  try {
    for (const phase of ['warmup', 'sample'] as const) {
      if (cell.stop) break;
      cell.enter(phase);
      const driven = drive(cell);
      await Promise.race([driven, cell.stopped]);
      if (cell.stop) await settleWithin(driven, SETTLE_GRACE_MS);
    }
  } finally {
    clearTimeout(budget);
    ctx.signal.removeEventListener('abort', onInterrupt);
  }

  const result: WorkloadResult = { samples: cell.samples };
  const ended = cell.stop as Stop | null; // set from callbacks, which TypeScript's narrowing cannot see
  if (ended?.kind === 'interrupt') result.truncated = 'interrupted';
  if (ended?.kind === 'budget') {
    const taken = cell.phase === 'sample' ? cell.doneInPhase : 0;
    result.truncated = budgetReached(max_seconds, taken, iterations, 'samples');
  }
  if (ended?.kind === 'error') {
    const { error } = ended;
    if (error instanceof WorkloadError) throw new WorkloadError(error.message, { ...error.partial, ...result });
    throw error;
  }
  return result;
}

/** Seconds as a setTimeout delay; Node fires delays above 2^31-1 ms at once, so longer ones are capped (~24.8 days). */
export function timerDelay(seconds: number): number {
  return Math.min(seconds * 1000, 2 ** 31 - 1);
}

/** What `truncated` says when a cell's max_seconds ran out. */
export function budgetReached(maxSeconds: number, taken: number, planned: number, what: string): string {
  return `max_seconds (${maxSeconds} s) reached after ${taken} of ${planned} ${what}`;
}

/** Wait for `work`, but no longer than `ms`: a run that ignores its abort signal must not hang the cell. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
