/**
 * The sampling loop every workload that times "one run at a time" shares:
 * warmup, iterations, min/max time, per-sample timeout, concurrency and
 * interrupt, decided once here so no workload re-invents them. The loop
 * measures nothing itself; `once` returns each run's values.
 */
import type { CellContext, SampleProgress, WorkloadResult } from '../workloads/types.ts';
import { WorkloadError } from '../workloads/types.ts';

/**
 * One run: returns one value per metric (e.g. `{ wall_ms: 0.61 }`).
 * `index` counts runs from 0 across the cell, warmups first: a run with
 * `index < ctx.sampling.warmup` is a warmup and its values are discarded.
 * `signal` aborts when the run times out, the cell's budget ends or the run is
 * interrupted; `once` should then stop its work promptly (its result or error
 * is ignored).
 */
export type SampleOnce = (index: number, signal: AbortSignal) => Promise<Record<string, number>>;

/** Untimed work around every run (warmups included), e.g. `prepare` and `conclude`. Same index and signal as the run. */
export type SampleHook = (index: number, signal: AbortSignal) => Promise<void>;

export interface SampleHooks {
  beforeEach?: SampleHook;
  afterEach?: SampleHook;
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
export async function sampleLoop(ctx: CellContext, once: SampleOnce, hooks: SampleHooks = {}): Promise<WorkloadResult> {
  const { warmup, iterations, min_seconds, max_seconds, timeout_s, concurrency } = ctx.sampling;
  const maxIterations = Math.max(iterations, ctx.sampling.max_iterations);
  const minMs = min_seconds * 1000;
  const timeoutMs = timerDelay(timeout_s);
  const samples: Record<string, number[]> = {};
  const inFlight: (AbortController | undefined)[] = new Array(concurrency).fill(undefined);

  let stop: Stop | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const halt = (reason: Stop) => {
    if (stop) return;
    stop = reason;
    for (const controller of inFlight) controller?.abort();
    wake();
  };

  let phase: SampleProgress['phase'] = 'warmup';
  let nextIndex = 0;
  let startedInPhase = 0;
  let doneInPhase = 0;
  let sampleStart = 0;
  const wantsMore = (): boolean => {
    if (phase === 'warmup') return startedInPhase < warmup;
    if (startedInPhase < iterations) return true;
    return startedInPhase < maxIterations && performance.now() - sampleStart < minMs;
  };
  const plannedTotal = () => (phase === 'warmup' ? warmup : startedInPhase > iterations ? maxIterations : iterations);

  const worker = async (slot: number): Promise<void> => {
    while (stop === null && wantsMore()) {
      const index = nextIndex++;
      const ordinal = ++startedInPhase;
      const controller = new AbortController();
      inFlight[slot] = controller;
      try {
        await hooks.beforeEach?.(index, controller.signal);
        if (controller.signal.aborted) return;
        const label = phase === 'warmup' ? `warmup run ${ordinal}` : `sample ${ordinal}`;
        const timer = setTimeout(() => halt({ kind: 'error', error: new WorkloadError(`${label} took longer than timeout_s (${timeout_s} s)`) }), timeoutMs);
        let values: Record<string, number>;
        try {
          values = await once(index, controller.signal);
        } finally {
          clearTimeout(timer);
        }
        if (controller.signal.aborted) return;
        if (phase === 'sample') for (const name in values) (samples[name] ??= []).push(values[name] as number);
        doneInPhase++;
        ctx.progress({ phase, done: doneInPhase, total: plannedTotal() });
        await hooks.afterEach?.(index, controller.signal);
      } catch (error) {
        if (!controller.signal.aborted) halt({ kind: 'error', error });
        return;
      } finally {
        inFlight[slot] = undefined;
      }
    }
  };

  const onInterrupt = () => halt({ kind: 'interrupt' });
  if (ctx.signal.aborted) onInterrupt();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  const budget = setTimeout(() => halt({ kind: 'budget' }), timerDelay(max_seconds));
  try {
    for (const next of ['warmup', 'sample'] as const) {
      if (stop) break;
      phase = next;
      startedInPhase = 0;
      doneInPhase = 0;
      sampleStart = performance.now();
      const workers = Promise.all(Array.from({ length: concurrency }, (_, slot) => worker(slot)));
      await Promise.race([workers, stopped]);
      if (stop) await settleWithin(workers, SETTLE_GRACE_MS);
    }
  } finally {
    clearTimeout(budget);
    ctx.signal.removeEventListener('abort', onInterrupt);
  }

  const result: WorkloadResult = { samples };
  const ended = stop as Stop | null; // set from callbacks, which TypeScript's narrowing cannot see
  if (ended?.kind === 'interrupt') result.truncated = 'interrupted';
  if (ended?.kind === 'budget') {
    const taken = phase === 'sample' ? doneInPhase : 0;
    result.truncated = `max_seconds (${max_seconds} s) reached after ${taken} of ${iterations} samples`;
  }
  if (ended?.kind === 'error') {
    const { error } = ended;
    if (error instanceof WorkloadError) throw new WorkloadError(error.message, { ...error.partial, ...result });
    throw error;
  }
  return result;
}

/** Seconds as a setTimeout delay; Node fires delays above 2^31-1 ms at once, so longer ones are capped (~24.8 days). */
function timerDelay(seconds: number): number {
  return Math.min(seconds * 1000, 2 ** 31 - 1);
}

/** Wait for `work`, but no longer than `ms`: a run that ignores its abort signal must not hang the cell. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
