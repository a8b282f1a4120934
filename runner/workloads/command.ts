/**
 * The `command` workload: times an external command the way hyperfine does
 * (setup / prepare / conclude / cleanup around it), each run timed inside the
 * native spawner so Node's own cost stays outside the clock, and when nothing
 * has to happen between runs, the runs of a phase go back to back in one batch.
 */
import { InputError } from '../../base/errors.ts';
import type { MetricDef, Requirement } from '../rig/schema.ts';
import { runLabel, SampleTimeout, sampleLoop, sampleLoopBatched, type SampleBatch, type SampleHooks, type SampleOnce, type SampleValues } from '../sampling/loop.ts';
import { describeProgram, resolveCommand, type ResolvedCommand } from '../process/program.ts';
import { CacheDropper, type CacheDropOptions } from '../process/cache-drop.ts';
import { coldVerdict, harnessMappings, programFiles, type HarnessMapping } from '../process/cold.ts';
import { parseCommandParams, validateCommandParams, type CommandParams } from './command-params.ts';
import type { BuildOptions } from '../process/native-build.ts';
import { type BatchOptions, type BatchEnd, type Spawner, type TimedRun } from '../process/spawner.ts';
import { openSpawner } from '../process/open-spawner.ts';
import { lastLines } from '../../base/tail.ts';
import { WorkloadError, type CellContext, type CellSampling, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { runUntimed } from '../process/untimed.ts';

/** Bytes of the last run's stdout kept in facts.last_stdout with output 'keep'. */
const LAST_STDOUT_BYTES = 2048;
/** The spawner's own timeout trails the loop's timeout_s, so the loop's timer fires first and words the error. */
const SPAWNER_TIMEOUT_MARGIN_MS = 1000;

export interface CommandWorkloadOptions {
  spawnerBuild?: BuildOptions;
  cacheDrop?: CacheDropOptions;
}

/** Metric names this workload fills for a rig. */
export interface CommandMetrics {
  /** The first declared metric with unit ms other than user_ms/sys_ms: wall time, "spawn requested -> child exited (waitpid)". */
  wall: string;
  /** `user_ms` / `sys_ms` when declared: the child's CPU time from its rusage (native spawner only). */
  user?: string;
  sys?: string;
}

/** What this workload fills: times in ms (refused when the rig is loaded, so `unit: msec` is not found out by a run). */
export function cannotFillCommand(metric: MetricDef): string | null {
  if (metric.kind === 'counted') return 'a timed metric (the command workload times; a counted metric needs a counting workload, e.g. callgrind)';
  return metric.unit === 'ms' ? null : 'a timed metric in ms (unit: ms): the command workload times each run in ms, wall time in the first such metric, CPU time in user_ms and sys_ms';
}

function commandMetrics(ctx: Pick<CellContext, 'rig' | 'metrics'>): CommandMetrics {
  const wall = ctx.metrics.find((name) => name !== 'user_ms' && name !== 'sys_ms' && ctx.rig.metrics[name]?.unit === 'ms');
  if (!wall) {
    const units = ctx.metrics.map((name) => `${name} in ${ctx.rig.metrics[name]?.unit ?? '?'}`);
    throw new InputError(
      `rig ${ctx.rig.name}: metrics: the command workload needs a metric with unit ms for wall time, found ${units.join(', ') || 'none'}`,
    );
  }
  return {
    wall,
    ...(ctx.metrics.includes('user_ms') ? { user: 'user_ms' } : {}),
    ...(ctx.metrics.includes('sys_ms') ? { sys: 'sys_ms' } : {}),
  };
}

/**
 * 'batch': the runs of a phase back to back in the native helper, with no
 * Node work (IPC, GC, timers) between them, as hyperfine's own loop. Only when
 * nothing must happen between runs: no prepare/conclude/drop_caches, one run
 * in flight, and a spawner that can batch.
 */
export type LoopKind = 'batch' | 'per-run';

export function loopKind(p: CommandParams, sampling: Pick<CellSampling, 'concurrency'>, spawner: Spawner): LoopKind {
  const between = p.prepare !== undefined || p.conclude !== undefined || p.dropCaches;
  return spawner.runBatch && sampling.concurrency === 1 && !between ? 'batch' : 'per-run';
}

/** Text of the tail of a stream, cut to the last `bytes` bytes. */
function lastBytes(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  return buffer.length <= bytes ? text : buffer.subarray(buffer.length - bytes).toString('utf8');
}

export function createCommandWorkload(options: CommandWorkloadOptions = {}): Workload {
  return {
    name: 'command',
    description: 'times an external command as hyperfine -N does (setup, prepare, conclude, cleanup; native spawner)',
    validateParams: validateCommandParams,
    cannotFill: cannotFillCommand,
    requirements(params): Requirement[] {
      if (typeof params.run === 'string') return [{ binary: 'sh' }];
      if (Array.isArray(params.run) && typeof params.run[0] === 'string') return [{ binary: params.run[0] }];
      return [];
    },
    run: (ctx) => runCommandCell(ctx, parseCommandParams(ctx.params), options),
  };
}

export const commandWorkload = createCommandWorkload();

async function runCommandCell(ctx: CellContext, p: CommandParams, options: CommandWorkloadOptions): Promise<WorkloadResult> {
  const metrics = commandMetrics(ctx);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const untimed = { env: p.env, cwd: p.cwd, timeoutMs };
  const drops = new CacheDropper(p.dropCaches, options.cacheDrop);
  const { spawner, note } = await openSpawner(p.spawner, options.spawnerBuild);
  const facts: Record<string, unknown> = {
    spawner: { kind: spawner.kind, note },
    loop: loopKind(p, ctx.sampling, spawner),
  };
  if (spawner.kind === 'node' && (metrics.user || metrics.sys)) {
    facts.rusage_unavailable = 'the node spawner cannot read the child rusage: user_ms and sys_ms have no samples';
  }
  let lastStdout: string | undefined;
  let result: WorkloadResult | undefined;
  let failure: unknown;
  let cold: { files: string[]; harness: HarnessMapping[] } | undefined;
  try {
    if (p.setup) await runUntimed('setup', p.setup, { ...untimed, signal: ctx.signal });
    // After setup, which may make the program; before the first run, so no run searches PATH.
    const command = commandOf(p);
    const program = describeProgram(command);
    facts.program = program;
    if (p.dropCaches) {
      cold = { files: programFiles(program, p.env?.PATH ?? process.env.PATH), harness: harnessMappings(spawner.helperPids?.() ?? []) };
      drops.watch(cold.files);
    }
    result = await sampleCommand(ctx, p, command, spawner, metrics, { hooks: hooks(p, drops, untimed), keepStdout: (tail) => (lastStdout = tail) });
  } catch (error) {
    failure = error;
  } finally {
    try {
      if (p.cleanup) await runUntimed('cleanup', p.cleanup, untimed);
    } catch (error) {
      failure ??= error;
    }
    await spawner.close();
  }
  facts.cache_drops = drops.facts();
  if (cold) facts.cold = coldVerdict(cold.files, drops.facts(), cold.harness);
  if (lastStdout !== undefined) facts.last_stdout = lastBytes(lastStdout, LAST_STDOUT_BYTES);
  if (failure === undefined && result) return { ...result, facts };
  if (ctx.signal.aborted && !(failure instanceof WorkloadError)) return { samples: {}, facts, truncated: 'interrupted' };
  if (failure instanceof WorkloadError) throw new WorkloadError(failure.message, { samples: {}, ...failure.partial, ...result, facts });
  throw failure;
}

/** p.run with its program found where the runs will look (untimed, once per cell); not found fails the cell. */
export function commandOf(p: CommandParams): ResolvedCommand {
  try {
    return resolveCommand(p.run, { env: p.env, cwd: p.cwd });
  } catch (error) {
    throw new WorkloadError((error as Error).message);
  }
}

/**
 * Sample `command` (p.run resolved by commandOf) in `ctx` with `spawner` through the loop loopKind() picks
 * (`hooks` only run in the per-run loop, which loopKind picks when p has them).
 * The harness.fidelity workload times rigor through this too.
 */
export function sampleCommand(
  ctx: CellContext,
  p: CommandParams,
  command: ResolvedCommand,
  spawner: Spawner,
  metrics: CommandMetrics,
  extra: { hooks?: SampleHooks; keepStdout?: (tail: string) => void } = {},
): Promise<WorkloadResult> {
  const keepStdout = extra.keepStdout ?? (() => {});
  const runBatch = spawner.runBatch?.bind(spawner);
  if (runBatch && loopKind(p, ctx.sampling, spawner) === 'batch') return sampleLoopBatched(ctx, timeBatch(ctx, p, command, runBatch, metrics, keepStdout));
  return sampleLoop(ctx, timeRun(ctx, p, command, spawner, metrics, keepStdout), extra.hooks);
}

function timeRun(
  ctx: CellContext,
  p: CommandParams,
  command: ResolvedCommand,
  spawner: Spawner,
  metrics: CommandMetrics,
  keepStdout: (tail: string) => void,
): SampleOnce {
  const { warmup } = ctx.sampling;
  const runOptions = { env: p.env, cwd: p.cwd, output: p.output, timeoutMs: ctx.sampling.timeout_s * 1000 + SPAWNER_TIMEOUT_MARGIN_MS };
  return async (index, signal) => {
    let run;
    try {
      run = await spawner.run(command, { ...runOptions, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new WorkloadError(`${runLabel(index, warmup)}: ${(error as Error).message}`);
    }
    if (p.expectExit !== 'any' && run.exitCode !== p.expectExit) throw unexpectedExit(runLabel(index, warmup), p, run);
    return runValues(run, metrics, keepStdout);
  };
}

/** A batch in the helper; the helper itself kills a run over timeout_s and ends the batch at an unexpected exit. */
function timeBatch(
  ctx: CellContext,
  p: CommandParams,
  command: ResolvedCommand,
  runBatch: (command: ResolvedCommand, opts: BatchOptions) => Promise<BatchEnd>,
  metrics: CommandMetrics,
  keepStdout: (tail: string) => void,
): SampleBatch {
  const { warmup } = ctx.sampling;
  const batchOptions = { env: p.env, cwd: p.cwd, output: p.output, timeoutMs: ctx.sampling.timeout_s * 1000, expectExit: p.expectExit };
  return async (first, count, record, signal) => {
    const onRuns = (runs: TimedRun[]) => record(runs.map((run) => runValues(run, metrics, keepStdout)));
    const { done, stop } = await runBatch(command, { ...batchOptions, count, signal, onRuns });
    const index = first + done;
    if (stop?.reason === 'timeout') throw new SampleTimeout(index);
    if (stop?.reason === 'cannot-start') throw new WorkloadError(`${runLabel(index, warmup)}: ${stop.message}`);
    if (stop?.reason === 'exit') throw unexpectedExit(runLabel(index, warmup), p, stop.run);
  };
}

function unexpectedExit(label: string, p: CommandParams, run: TimedRun): WorkloadError {
  const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
  const tail = lastLines(run.stderrTail, 20);
  return new WorkloadError(
    `${label}: ${p.run.join(' ')} ${how}, expected exit code ${p.expectExit}; ${tail ? `last 20 lines of stderr:\n${tail}` : 'stderr was empty'}`,
  );
}

function runValues(run: TimedRun, metrics: CommandMetrics, keepStdout: (tail: string) => void): SampleValues {
  if (run.stdoutTail !== undefined) keepStdout(run.stdoutTail);
  const values: SampleValues = { [metrics.wall]: run.wallMs };
  if (metrics.user && run.userMs !== null) values[metrics.user] = run.userMs;
  if (metrics.sys && run.sysMs !== null) values[metrics.sys] = run.sysMs;
  return values;
}

/** prepare, then the cache drop (so prepare's reads do not refill the cache), before each run; conclude after it. */
function hooks(p: CommandParams, drops: CacheDropper, untimed: { env?: Record<string, string>; cwd?: string; timeoutMs: number }): SampleHooks {
  const { prepare, conclude } = p;
  return {
    ...(prepare || p.dropCaches
      ? {
          beforeEach: async (_index: number, signal: AbortSignal) => {
            if (prepare) await runUntimed('prepare', prepare, { ...untimed, signal });
            if (p.dropCaches) await drops.drop(signal, untimed.timeoutMs);
          },
        }
      : {}),
    ...(conclude ? { afterEach: (_index: number, signal: AbortSignal) => runUntimed('conclude', conclude, { ...untimed, signal }) } : {}),
  };
}
