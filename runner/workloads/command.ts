/**
 * The `command` workload: times an external command the way hyperfine does
 * (setup / prepare / conclude / cleanup around it), each run timed inside the
 * native spawner so Node's own cost stays outside the clock, and when nothing
 * has to happen between runs, the runs of a phase go back to back in one batch.
 * Metrics named in params.metrics are read from each run's output after it.
 */
import type { Requirement } from '../rig/schema.ts';
import { runLabel, SampleTimeout, sampleLoop, sampleLoopBatched, type SampleBatch, type SampleHooks, type SampleOnce, type SampleValues } from '../sampling/loop.ts';
import { describeProgram, resolveCommand, type ResolvedCommand } from '../process/program.ts';
import { CacheDropper, type CacheDropOptions } from '../process/cache-drop.ts';
import { coldVerdict, harnessMappings, programFiles, type HarnessMapping } from '../process/cold.ts';
import { CommandParamsSchema, parseCommandParams, validateCommandParams, type CommandParams } from './command-params.ts';
import type { BuildOptions } from '../process/native-build.ts';
import { type BatchOptions, type BatchEnd, type OutputMode, type Spawner, type TimedRun } from '../process/spawner.ts';
import { openSpawner } from '../process/open-spawner.ts';
import { lastLines } from '../../base/tail.ts';
import { WorkloadError, type CellContext, type CellSampling, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { runUntimed } from '../process/untimed.ts';
import { choices } from '../rig/suggest.ts';
import { cannotFillCommand, commandCannotFill, wallMetric } from './command-fill.ts';
import { describeSource, fileValue, MissingValue, outputValue, readsFile, readsStdoutSize, readsStdoutText, SourceText, sourceUnitProblem, type MetricSource, type RunOutput } from './metric-sources.ts';

/** Bytes of the last run's stdout kept in facts.last_stdout with output 'keep'. */
const LAST_STDOUT_BYTES = 2048;
/** The spawner's own timeout trails the loop's timeout_s, so the loop's timer fires first and words the error. */
const SPAWNER_TIMEOUT_MARGIN_MS = 1000;

export interface CommandWorkloadOptions {
  spawnerBuild?: BuildOptions;
  cacheDrop?: CacheDropOptions;
}

/** A metric read from each run's output, in the unit the rig gives it. */
export interface SourcedMetric {
  name: string;
  source: MetricSource;
  unit: string;
}

/** Metric names this workload fills for a rig. */
export interface CommandMetrics {
  /** The first declared metric with unit ms that is neither user_ms/sys_ms nor read from output: wall time, "spawn requested -> child exited (waitpid)". */
  wall?: string;
  /** `user_ms` / `sys_ms` when declared: the child's CPU time from its rusage (native spawner only). */
  user?: string;
  sys?: string;
  /** Metrics params.metrics reads from each run's output. */
  sources?: SourcedMetric[];
}

/**
 * What this cell fills. Metrics it cannot fill were refused when the rig was
 * loaded, unless another workload of the rig fills them; they stay empty here.
 */
function commandMetrics(ctx: Pick<CellContext, 'rig' | 'metrics' | 'sampling'>, p: CommandParams): CommandMetrics {
  const declared = ctx.rig.metrics;
  const sourced = Object.keys(p.metrics);
  const problems: string[] = [];
  for (const name of sourced) {
    const metric = declared[name];
    if (!metric) problems.push(`params.metrics.${name}: expected a metric the rig declares ${choices(name, ctx.metrics)}, found "${name}"`);
    else {
      const problem = sourceUnitProblem(p.metrics[name]!.from, metric);
      if (problem) problems.push(`metrics.${name}: expected ${problem}, found a metric in ${metric.unit}`);
    }
  }
  const files = sourced.filter((name) => readsFile(p.metrics[name]!));
  if (files.length > 0 && ctx.sampling.concurrency > 1) {
    problems.push(`params.metrics.${files[0]} reads a file the run writes: expected concurrency 1 (runs in flight at once would write the same file), found ${ctx.sampling.concurrency}`);
  }
  if (problems.length > 0) throw new WorkloadError(problems.join('\n'));
  const wall = wallMetric(declared, sourced);
  const fills = (name: string) => ctx.metrics.includes(name) && commandCannotFill(name, declared[name]!, declared, Object.fromEntries(sourced.map((n) => [n, p.metrics[n]!.from]))) === null;
  const metrics: CommandMetrics = {
    ...(wall ? { wall } : {}),
    ...(fills('user_ms') ? { user: 'user_ms' } : {}),
    ...(fills('sys_ms') ? { sys: 'sys_ms' } : {}),
    ...(sourced.length > 0 ? { sources: sourced.map((name) => ({ name, source: p.metrics[name]!, unit: declared[name]!.unit })) } : {}),
  };
  if (!metrics.wall && !metrics.user && !metrics.sys && !metrics.sources) {
    throw new WorkloadError(
      `rig ${ctx.rig.name}: metrics: the command workload needs a metric with unit ms for wall time, or params.metrics saying where to read one, found ${ctx.metrics.join(', ') || 'none'}`,
    );
  }
  return metrics;
}

/**
 * Where the runs' stdout goes: all of it kept when a metric reads it, its
 * size counted when a metric needs only that, else as params.output says
 * (params.output cannot be discard or pipe then: validateCommandParams).
 */
export function outputMode(p: CommandParams): OutputMode {
  const sources = Object.values(p.metrics);
  if (sources.some(readsStdoutText)) return 'all';
  if (sources.some(readsStdoutSize)) return 'keep';
  return p.output;
}

/**
 * 'batch': the runs of a phase back to back in the native helper, with no
 * Node work (IPC, GC, timers) between them, as hyperfine's own loop. Only when
 * nothing must happen between runs: no prepare/conclude/drop_caches, one run
 * in flight, and a spawner that can batch.
 */
export type LoopKind = 'batch' | 'per-run';

export function loopKind(p: CommandParams, sampling: Pick<CellSampling, 'concurrency'>, spawner: Spawner): LoopKind {
  // A file a run writes is read before the next run writes it again.
  const between = p.prepare !== undefined || p.conclude !== undefined || p.dropCaches || Object.values(p.metrics).some(readsFile);
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
    paramsSchema: CommandParamsSchema,
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

async function runCommandCell(ctx: CellContext, params: CommandParams, options: CommandWorkloadOptions): Promise<WorkloadResult> {
  // Every command of the cell (setup to cleanup) can reach the run's scratch directory by name.
  const p = ctx.scratch ? { ...params, env: { ...params.env, RIGOR_SCRATCH: ctx.scratch } } : params;
  const metrics = commandMetrics(ctx, p);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const untimed = { env: p.env, cwd: p.cwd, timeoutMs };
  const drops = new CacheDropper(p.dropCaches, options.cacheDrop);
  const { spawner, note } = await openSpawner(p.spawner, options.spawnerBuild);
  const facts: Record<string, unknown> = {
    spawner: { kind: spawner.kind, note },
    loop: loopKind(p, ctx.sampling, spawner),
  };
  if (metrics.sources) {
    facts.output = outputMode(p);
    facts.metric_sources = Object.fromEntries(metrics.sources.map(({ name, source }) => [name, describeSource(source)]));
  }
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
    const keepStdout = p.output === 'keep' ? (tail: string) => (lastStdout = tail) : undefined;
    result = await sampleCommand(ctx, p, command, spawner, metrics, { hooks: hooks(p, drops, untimed), ...(keepStdout ? { keepStdout } : {}) });
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
  const cacheDrops = drops.facts();
  facts.cache_drops = cacheDrops;
  if (cold) facts.cold = coldVerdict(cold.files, cacheDrops, cold.harness);
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
  const runOptions = { env: p.env, cwd: p.cwd, output: outputMode(p), timeoutMs: ctx.sampling.timeout_s * 1000 + SPAWNER_TIMEOUT_MARGIN_MS };
  const cwd = p.cwd ?? process.cwd();
  const files = (metrics.sources ?? []).filter(({ source }) => readsFile(source));
  return async (index, signal) => {
    let run;
    try {
      run = await spawner.run(command, { ...runOptions, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new WorkloadError(`${runLabel(index, warmup)}: ${(error as Error).message}`);
    }
    const label = () => runLabel(index, warmup);
    if (p.expectExit !== 'any' && run.exitCode !== p.expectExit) throw unexpectedExit(label(), p, run);
    const values = runValues(run, metrics, keepStdout, label);
    // Files the run wrote, read after it and before conclude (untimed), each once however many sources read it.
    const texts = new Map<string, Promise<SourceText>>();
    for (const { name, source, unit } of files) {
      try {
        values[name] = await fileValue(source, unit, cwd, texts);
      } catch (error) {
        throw valueError(error, label(), name, source);
      }
    }
    return values;
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
  const batchOptions = { env: p.env, cwd: p.cwd, output: outputMode(p), timeoutMs: ctx.sampling.timeout_s * 1000, expectExit: p.expectExit };
  return async (first, count, record, signal) => {
    // A value a run did not produce ends the batch there: the runs before it count.
    const missing = new AbortController();
    let handed = 0;
    const onRuns = (runs: TimedRun[]) => {
      if (missing.signal.aborted) return;
      const values: SampleValues[] = [];
      try {
        for (const run of runs) {
          const index = first + handed + values.length;
          values.push(runValues(run, metrics, keepStdout, () => runLabel(index, warmup)));
        }
      } catch (error) {
        missing.abort(error);
      }
      handed += values.length;
      record(values);
    };
    let end: BatchEnd;
    try {
      end = await runBatch(command, { ...batchOptions, count, signal: AbortSignal.any([signal, missing.signal]), onRuns });
    } catch (error) {
      throw missing.signal.aborted && !signal.aborted ? missing.signal.reason : error;
    }
    if (missing.signal.aborted) throw missing.signal.reason;
    const { done, stop } = end;
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

/**
 * A run's values: its times, and what params.metrics reads from its stdout (files are read by the caller);
 * stdout is decoded and parsed once however many sources read it, and `label` is worded only for an error.
 */
function runValues(run: TimedRun, metrics: CommandMetrics, keepStdout: (tail: string) => void, label: () => string): SampleValues {
  if (run.stdoutTail !== undefined) keepStdout(run.stdoutTail);
  const values: SampleValues = {};
  if (metrics.wall) values[metrics.wall] = run.wallMs;
  if (metrics.user && run.userMs !== null) values[metrics.user] = run.userMs;
  if (metrics.sys && run.sysMs !== null) values[metrics.sys] = run.sysMs;
  if (!metrics.sources) return values;
  const output: RunOutput = { wallMs: run.wallMs, ...(run.stdout ? { stdout: new SourceText(run.stdout) } : {}), ...(run.stdoutBytes !== undefined ? { stdoutBytes: run.stdoutBytes } : {}) };
  for (const { name, source, unit } of metrics.sources) {
    try {
      const value = outputValue(source, unit, output);
      if (value !== null) values[name] = value;
    } catch (error) {
      throw valueError(error, label(), name, source);
    }
  }
  return values;
}

/** "sample 3: metric ratio (field ratio of stdout as JSON): stdout has no field ..." for a value the run did not produce. */
function valueError(error: unknown, label: string, name: string, source: MetricSource): unknown {
  if (!(error instanceof MissingValue)) return error;
  return new WorkloadError(`${label}: metric ${name} (${describeSource(source)}): ${error.message}`);
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
