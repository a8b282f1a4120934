/**
 * `engine.cycle`: container engines driven through their CLI as agentkernel
 * drives them, each command timed from spawn to exit by the native spawner.
 *
 * - `run-rm`: one `<cli> run --rm --network none <image> <command>` per sample.
 * - `breakdown`: one container's life per sample, each step a metric:
 *   create, start, exec of the command, stop, rm, and the whole cycle.
 * - `cycles`: per sample, `cycles` such lives in waves of `parallel` (each wave
 *   waits for the last, as agentkernel's benchmark_test); the per-cycle
 *   latencies' p50/p95/p99 and mean and cycles per second of the run's wall
 *   time are the sample's values, the latencies themselves kept in the facts.
 * - `concurrent`: per sample, `requests` `run --rm` started at once; their
 *   latencies' percentiles and requests per second of the wall time.
 */
import { z } from 'zod';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../../contract/workload.ts';
import { openSpawner } from '../../process/open-spawner.ts';
import type { Spawner, TimedRun } from '../../process/spawner.ts';
import type { MetricDef } from '../../rig/schema.ts';
import { sampleLoop, type SampleValues } from '../../sampling/loop.ts';
import { Argv, wholeNumber } from '../param-checks.ts';
import { failuresAsWorkloadErrors } from '../sandbox/as-workload-error.ts';
import { ENGINES, RUNTIMES, type EngineConnector } from './connection.ts';
import { BREAKDOWN_STEPS, breakdownSteps, containerName, forceRemoveStep, runRmStep, type EngineCli, type StepCommand } from './steps.ts';
import { summarizeLoadRun, waveSizes } from './summary.ts';
import { runUntimed, sweepLeftovers } from './sweep.ts';

export const MODES = ['run-rm', 'breakdown', 'cycles', 'concurrent'] as const;
type Mode = (typeof MODES)[number];

const DEFAULT_COMMAND = ['echo', 'hello'];
const DEFAULTS = { cycles: 100, parallel: 10, requests: 100 } as const;
/** `rm` attempts while the engine says the container's mounts are busy, and the pause between them. */
const RM_ATTEMPTS = 10;
const RM_RETRY_PAUSE_MS = 50;

/** The metrics each mode fills. */
export const MODE_METRICS: Record<Mode, readonly string[]> = {
  'run-rm': ['run_ms'],
  breakdown: ['create_ms', 'start_ms', 'exec_ms', 'stop_ms', 'rm_ms', 'cycle_ms'],
  cycles: ['cycle_p50_ms', 'cycle_p95_ms', 'cycle_p99_ms', 'cycle_mean_ms', 'cycles_per_s', 'cycles_wall_ms'],
  concurrent: ['request_p50_ms', 'request_p95_ms', 'request_p99_ms', 'request_mean_ms', 'requests_per_s', 'requests_wall_ms'],
};
const ALL_METRICS = Object.values(MODE_METRICS).flat();

export const EngineCycleParams = z.strictObject({
  engine: z.enum(ENGINES),
  runtime: z.enum(RUNTIMES).optional(),
  mode: z.enum(MODES),
  command: Argv.optional(),
  cycles: wholeNumber({ least: 1 }).optional(),
  parallel: wholeNumber({ least: 1 }).optional(),
  requests: wholeNumber({ least: 1 }).optional(),
});
type Params = z.infer<typeof EngineCycleParams>;

/** What the schema cannot say: the load params belong to their mode. */
export function engineCycleProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const mode = params.mode;
  const only = (name: string, owner: Mode) => {
    if (params[name] !== undefined && mode !== owner) problems.push(`params.${name}: expected nothing with mode ${JSON.stringify(mode)} (only mode ${owner} takes ${name}), found ${JSON.stringify(params[name])}`);
  };
  only('cycles', 'cycles');
  only('parallel', 'cycles');
  only('requests', 'concurrent');
  const cycles = (params.cycles as number | undefined) ?? DEFAULTS.cycles;
  if (mode === 'cycles' && typeof params.parallel === 'number' && params.parallel > cycles) {
    problems.push(`params.parallel: expected at most cycles (${cycles}), found ${params.parallel}`);
  }
  return problems;
}

/** A metric this workload fills: one of its names, timed, in ms or per second. */
export function cannotFillEngineCycle(metric: MetricDef, query: { name: string }): string | null {
  const expected = `one of the metrics engine.cycle fills (${ALL_METRICS.join(', ')}), timed`;
  if (!ALL_METRICS.includes(query.name) || metric.kind === 'counted') return expected;
  if (query.name.endsWith('_ms') && metric.unit !== 'ms') return `a timed metric in ms (engine.cycle fills ${query.name} in ms)`;
  if (query.name.endsWith('_per_s') && !metric.unit.endsWith('/s')) return `a timed metric in a unit per second, e.g. ${query.name.split('_')[0]}/s`;
  return null;
}

export function engineCycleWorkload(connector: EngineConnector): Workload {
  return {
    name: 'engine.cycle',
    description: 'docker or podman (runc or gVisor) through their CLI: run --rm, the create/start/exec/stop/rm breakdown, cycles in waves, concurrent run --rm (params.mode)',
    paramsSchema: EngineCycleParams,
    validateParams: engineCycleProblems,
    cannotFill: cannotFillEngineCycle,
    skipReason: (params) => connector.skipReason(params.engine as Params['engine'], (params.runtime as Params['runtime']) ?? 'runc'),
    run: (ctx) => runEngineCycle(ctx, paramsOf(ctx.params), connector),
  };
}

/** The cell's own params, checked when the rig was loaded; keys that only name the cell (or set its sampling) are not ours. */
function paramsOf(params: Record<string, unknown>): Params {
  const own = Object.fromEntries(Object.keys(EngineCycleParams.shape).filter((key) => params[key] !== undefined).map((key) => [key, params[key]]));
  return EngineCycleParams.parse(own);
}

/** What the command prints when it is the default, checked so an error path is never timed. */
function expectedStdout(command: string[]): string | undefined {
  return command.join(' ') === DEFAULT_COMMAND.join(' ') ? 'hello\n' : undefined;
}

async function runEngineCycle(ctx: CellContext, p: Params, connector: EngineConnector): Promise<WorkloadResult> {
  const runtime = p.runtime ?? 'runc';
  const command = p.command ?? DEFAULT_COMMAND;
  const expect = expectedStdout(command);
  ctx.log(`connecting to ${p.engine} (runtime ${runtime}) and importing the image`);
  let opened: Awaited<ReturnType<EngineConnector['open']>>;
  try {
    opened = await connector.open(p.engine, runtime);
  } catch (error) {
    throw new WorkloadError(`${p.engine} (runtime ${runtime}) could not be opened: ${(error as Error).message}`);
  }
  const engine = opened.cli;
  const swept = await sweepLeftovers(engine);
  const { spawner, note } = await openSpawner('native');
  // Containers made and not yet removed: removed (untimed) when the cell ends, however it ends.
  const live = new Set<string>();
  let serial = 0;
  const nextName = () => containerName(process.pid, serial++);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const timed = (step: StepCommand, signal: AbortSignal, stdout?: string) => timedStep(spawner, engine, step, { timeoutMs, signal, stdout });

  /** One container's life: the five steps back to back; the cycle from create's spawn to rm's exit. */
  const lifecycle = async (signal: AbortSignal) => {
    const name = nextName();
    const steps = breakdownSteps(engine, name, command);
    live.add(name);
    const values: SampleValues = {};
    const start = performance.now();
    for (const step of BREAKDOWN_STEPS) {
      values[`${step}_ms`] = step === 'rm' ? await removeTimed(steps.rm, signal) : (await timed(steps[step], signal, step === 'exec' ? expect : undefined)).wallMs;
    }
    values.cycle_ms = performance.now() - start;
    live.delete(name);
    return values;
  };
  /**
   * `rm` until the container is gone: podman 4.3 sometimes refuses the first
   * right after `stop` ("unlinkat …/userdata/shm: device or resource busy",
   * its own cleanup still unmounting), and a user would run it again (which
   * then removes it, or finds it already gone). Timed from the first spawn to
   * the exit of the last; the retries are counted in facts.rm_retries.
   */
  const removeTimed = async (step: StepCommand, signal: AbortSignal) => {
    const start = performance.now();
    for (let attempt = 1; ; attempt++) {
      const run = await spawner.run(step, { env: engine.env, output: 'discard', timeoutMs, signal });
      if (run.exitCode === 0) return attempt === 1 ? run.wallMs : performance.now() - start;
      // the busy attempt removed it from the engine's records after all
      if (attempt > 1 && /no such container/.test(run.stderrTail)) return performance.now() - start;
      if (attempt === RM_ATTEMPTS || !/device or resource busy/.test(run.stderrTail)) return failedStep(step, run);
      rmRetries++;
      await new Promise((resolve) => setTimeout(resolve, RM_RETRY_PAUSE_MS));
    }
  };
  let rmRetries = 0;
  const runRm = async (signal: AbortSignal) => {
    const name = nextName();
    live.add(name);
    const run = await timed(runRmStep(engine, name, command), signal, expect);
    live.delete(name);
    return run.wallMs;
  };

  // Every latency behind a sample's percentiles, kept in the facts (warmups left out).
  const loadRuns: { latencies_ms: number[]; wall_ms: number }[] = [];
  const keep = (index: number, latencies: number[], wallMs: number) => {
    if (index >= ctx.sampling.warmup) loadRuns.push({ latencies_ms: latencies, wall_ms: wallMs });
  };

  let once: (index: number, signal: AbortSignal) => Promise<SampleValues>;
  // Load runs keep this many commands in flight: their spawner helpers start before sampling, not inside a run's wall time.
  let inFlight = 1;
  if (p.mode === 'run-rm') {
    once = async (_index, signal) => ({ run_ms: await runRm(signal) });
  } else if (p.mode === 'breakdown') {
    once = async (_index, signal) => lifecycle(signal);
  } else if (p.mode === 'cycles') {
    const waves = waveSizes(p.cycles ?? DEFAULTS.cycles, p.parallel ?? DEFAULTS.parallel);
    inFlight = Math.max(...waves);
    once = async (index, signal) => {
      const latencies: number[] = [];
      const start = performance.now();
      for (const size of waves) {
        const lives = await Promise.all(Array.from({ length: size }, () => lifecycle(signal)));
        latencies.push(...lives.map((values) => values.cycle_ms!));
      }
      const wall = performance.now() - start;
      keep(index, latencies, wall);
      const s = summarizeLoadRun(latencies, wall);
      return { cycle_p50_ms: s.p50, cycle_p95_ms: s.p95, cycle_p99_ms: s.p99, cycle_mean_ms: s.mean, cycles_per_s: s.perSecond, cycles_wall_ms: wall };
    };
  } else {
    const requests = p.requests ?? DEFAULTS.requests;
    inFlight = requests;
    once = async (index, signal) => {
      const start = performance.now();
      const latencies = await Promise.all(Array.from({ length: requests }, () => runRm(signal)));
      const wall = performance.now() - start;
      keep(index, latencies, wall);
      const s = summarizeLoadRun(latencies, wall);
      return { request_p50_ms: s.p50, request_p95_ms: s.p95, request_p99_ms: s.p99, request_mean_ms: s.mean, requests_per_s: s.perSecond, requests_wall_ms: wall };
    };
  }

  try {
    if (inFlight > 1) await warmHelpers(spawner, inFlight);
    const result = await sampleLoop(ctx, failuresAsWorkloadErrors(once));
    return { ...result, facts: factsOf() };
  } catch (error) {
    if (error instanceof WorkloadError) throw new WorkloadError(error.message, error.partial && { ...error.partial, facts: factsOf() });
    throw error;
  } finally {
    await spawner.close();
    if (live.size > 0) await runUntimed(engine, forceRemoveStep(engine, [...live]));
  }

  function factsOf(): Record<string, unknown> {
    const example = p.mode === 'breakdown' || p.mode === 'cycles' ? breakdownSteps(engine, '<name>', command) : { run: runRmStep(engine, '<name>', command) };
    return {
      engine: opened.facts,
      mode: p.mode,
      command,
      // The command lines timed, exactly as executed (the container name varies per container).
      timed_argv: Object.fromEntries(Object.entries(example).map(([step, line]) => [step, line.argv])),
      env: Object.keys(engine.env),
      spawner: note,
      ...(p.mode === 'cycles' ? { cycles: p.cycles ?? DEFAULTS.cycles, parallel: p.parallel ?? DEFAULTS.parallel } : {}),
      ...(p.mode === 'concurrent' ? { requests: p.requests ?? DEFAULTS.requests } : {}),
      ...(loadRuns.length > 0 ? { load_runs: loadRuns, percentile: 'Hyndman & Fan type 7 over the run\'s latencies' } : {}),
      ...(swept.length > 0 ? { swept_leftovers: swept } : {}),
      ...(rmRetries > 0 ? { rm_retries: rmRetries } : {}),
    };
  }
}

/** Start `count` spawner helpers (the native spawner keeps one per command in flight). */
async function warmHelpers(spawner: Spawner, count: number): Promise<void> {
  const warm = (spawner as Spawner & { warm?: () => Promise<void> }).warm?.bind(spawner);
  if (warm) await Promise.all(Array.from({ length: count }, () => warm()));
}

/** One command timed from spawn to exit; a non-zero exit or unexpected output fails the cell with the engine's words. */
async function timedStep(spawner: Spawner, engine: EngineCli, step: StepCommand, opts: { timeoutMs: number; signal: AbortSignal; stdout?: string }): Promise<TimedRun> {
  const run = await spawner.run(step, { env: engine.env, output: opts.stdout === undefined ? 'discard' : 'keep', timeoutMs: opts.timeoutMs, signal: opts.signal });
  if (run.exitCode !== 0) failedStep(step, run);
  if (opts.stdout !== undefined && run.stdoutTail !== opts.stdout) throw new Error(`${step.argv.join(' ')} printed ${JSON.stringify(run.stdoutTail?.slice(0, 200))}, expected ${JSON.stringify(opts.stdout)}`);
  return run;
}

/** A command that did not succeed, said with the engine's last words. */
function failedStep(step: StepCommand, run: TimedRun): never {
  throw new Error(`${step.argv.join(' ')} ${run.signal ? `was killed by ${run.signal}` : `exited ${run.exitCode}`}: ${run.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
}
