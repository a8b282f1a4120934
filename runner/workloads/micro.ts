/**
 * In-process micro-benchmarks through tinybench 6, with its raw samples
 * retained (`retainSamples: true`, read from `task.result.latency.samples`),
 * so they go into the artifact like any other workload's samples.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { describeFound } from '../../base/errors.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { budgetReached, timerDelay } from '../sampling/loop.ts';

export type MicroTask = () => unknown | Promise<unknown>;

export interface MicroDefinition {
  name: string;
  description: string;
  /** Problems with the workload's own params (task is checked here). */
  validateParams?(params: Record<string, unknown>): string[];
  /** The functions a cell can time, by name; `params.task` picks one (it may be left out when there is only one). */
  tasks(params: Record<string, unknown>): Record<string, MicroTask>;
}

/** How the retained samples are ordered: tinybench sorts them in place before returning them. */
export const MICRO_SAMPLE_ORDER = 'ascending (tinybench retains its samples sorted, not in the order taken)';

function pickTask(tasks: Record<string, MicroTask>, task: unknown): string | string[] {
  const names = Object.keys(tasks);
  if (task === undefined && names.length === 1) return names[0] as string;
  if (typeof task === 'string' && names.includes(task)) return task;
  return [`params.task: expected one of ${names.join(', ')}, found ${describeFound(task)}`];
}

async function tinybenchVersion(): Promise<string | null> {
  try {
    const entry = createRequire(import.meta.url).resolve('tinybench');
    return (JSON.parse(await readFile(join(entry, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * A workload timing one in-process function per cell. Sampling maps onto
 * tinybench: warmup -> warmupIterations (warmupTime 0), iterations ->
 * iterations, min_seconds -> time (bounded by max_iterations), max_seconds and
 * interrupts -> its abort signal. Samples (ms per call) come back under the
 * rig's first metric. timeout_s is checked after the fact: a synchronous
 * function cannot be preempted.
 */
export function microWorkload(def: MicroDefinition): Workload {
  return {
    name: def.name,
    description: def.description,
    validateParams(params) {
      const problems = def.validateParams?.(params) ?? [];
      if (problems.length > 0) return problems;
      const picked = pickTask(def.tasks(params), params.task);
      return Array.isArray(picked) ? picked : [];
    },
    run: (ctx) => runMicro(def, ctx),
  };
}

async function runMicro(def: MicroDefinition, ctx: CellContext): Promise<WorkloadResult> {
  const tasks = def.tasks(ctx.params);
  const picked = pickTask(tasks, ctx.params.task);
  if (Array.isArray(picked)) throw new WorkloadError(picked.join('\n'));
  const { warmup, iterations, min_seconds, max_seconds, timeout_s } = ctx.sampling;
  const max_iterations = Math.max(iterations, ctx.sampling.max_iterations);
  const metric = ctx.metrics[0] as string;
  const stop = new AbortController();
  let stoppedBy: 'interrupt' | 'budget' | undefined;
  let done = 0;
  let warmed = 0;
  const onInterrupt = () => {
    stoppedBy ??= 'interrupt';
    stop.abort();
  };
  if (ctx.signal.aborted) onInterrupt();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  const budget = setTimeout(() => {
    stoppedBy ??= 'budget';
    stop.abort();
  }, timerDelay(max_seconds));
  const bench = new Bench({
    name: def.name,
    iterations,
    time: min_seconds * 1000,
    warmup: warmup > 0,
    warmupIterations: warmup,
    warmupTime: 0,
    retainSamples: true,
    signal: stop.signal,
  });
  bench.add(picked, tasks[picked] as MicroTask, {
    afterEach(mode) {
      if (mode === 'warmup') return ctx.progress({ phase: 'warmup', done: ++warmed, total: warmup });
      ctx.progress({ phase: 'sample', done: ++done, total: done > iterations ? max_iterations : iterations });
      if (min_seconds > 0 && done >= max_iterations) stop.abort(); // tinybench's time budget knows no upper count
    },
  });
  try {
    await bench.run();
  } finally {
    clearTimeout(budget);
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
  const result = bench.getTask(picked)!.result;
  if (result.state === 'errored') throw new WorkloadError(`task ${picked} threw: ${result.error.message}`);
  const samples = 'latency' in result ? [...(result.latency.samples ?? [])] : [];
  // Counted after the run: tinybench keeps a call that was in flight when the abort came.
  const truncated =
    stoppedBy === 'interrupt' ? 'interrupted'
    : stoppedBy === 'budget' ? budgetReached(max_seconds, samples.length, iterations, 'samples')
    : undefined;
  const outcome: WorkloadResult = {
    samples: { [metric]: samples },
    facts: { task: picked, sample_order: MICRO_SAMPLE_ORDER, timestamp_provider: result.timestampProviderName },
    tools: { tinybench: await tinybenchVersion() },
    ...(truncated ? { truncated } : {}),
  };
  const slowest = samples[samples.length - 1];
  if (slowest !== undefined && slowest > timeout_s * 1000) {
    throw new WorkloadError(`a call of ${picked} took ${slowest.toFixed(1)} ms, longer than timeout_s (${timeout_s} s)`, outcome);
  }
  return outcome;
}
