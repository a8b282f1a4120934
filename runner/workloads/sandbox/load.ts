/**
 * `sandbox.load`: one sample is one load run of `lifecycles` cold sandboxes,
 * `parallel` of them in flight at once (a new one starts as soon as one
 * ends), each created, asked to run the command and destroyed. Its values:
 * lifecycles that succeeded and failed, what the run leaked on the host by
 * kind (leak-census.ts: new since before the run, still there once it
 * settled) and the p50/p99 of the lifecycles that succeeded. One untimed
 * lifecycle before sampling starts what a backend keeps for the whole
 * process (a private engine daemon), so it is not counted as a leak.
 */
import type { Backend, SandboxSpec } from '../../../sandbox-core/backends/types.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import type { MetricDef } from '../../rig/schema.ts';
import { sampleLoop, type SampleValues } from '../../sampling/loop.ts';
import { quantileSorted } from '../../stats/percentile.ts';
import { Argv, wholeNumber } from '../param-checks.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendSkipReason, backendUsesKvm, checkExec, commandOf, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { LEAK_KINDS, leaksBetween, takeCensus, type Census } from './leak-census.ts';

const DEFAULT_COMMAND = ['echo', 'hello'];
const DEFAULTS = { lifecycles: 100, parallel: 16 } as const;
/** After a run, how long what it left may take to go (an orphan reaped by PID 1, an engine's lazy cleanup) before it is a leak. */
const SETTLE_MS = 10_000;
const SETTLE_POLL_MS = 250;
/** Failure messages kept per run in the facts. */
const KEPT_FAILURES = 5;

const COUNTED = ['successes', 'failures', ...LEAK_KINDS.map((kind) => `leaked_${kind}`)];
const TIMED = ['lifecycle_p50_ms', 'lifecycle_p99_ms'];

export function cannotFillLoad(metric: MetricDef, query: { name: string }): string | null {
  if (COUNTED.includes(query.name)) return metric.kind === 'counted' ? null : `a counted metric (kind: counted): sandbox.load counts ${query.name}`;
  if (TIMED.includes(query.name)) return metric.kind !== 'counted' && metric.unit === 'ms' ? null : `a timed metric in ms: sandbox.load times ${query.name}`;
  return `one of the metrics sandbox.load fills (${[...COUNTED, ...TIMED].join(', ')})`;
}

export function loadProblems(params: Record<string, unknown>): string[] {
  const lifecycles = (params.lifecycles as number | undefined) ?? DEFAULTS.lifecycles;
  const problems = variantProblems(params);
  if (typeof params.parallel === 'number' && params.parallel > lifecycles) problems.push(`params.parallel: expected at most lifecycles (${lifecycles}), found ${params.parallel}`);
  return problems;
}

export const loadWorkload: Workload = {
  name: 'sandbox.load',
  description: 'params.lifecycles cold sandboxes, params.parallel at once (create → exec → destroy): successes, failures, leaks by kind, lifecycle p50/p99',
  paramsSchema: sandboxParams().extend({
    command: Argv.optional(),
    lifecycles: wholeNumber({ least: 1, unit: 'lifecycles' }).optional(),
    parallel: wholeNumber({ least: 1, unit: 'sandboxes at once' }).optional(),
  }),
  validateParams: loadProblems,
  cannotFill: cannotFillLoad,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runLoad,
};

/** One run's record in the facts: every latency, the failures (a few kept), what leaked. */
interface LoadRun {
  latencies_ms: number[];
  failures: number;
  failure_examples: string[];
  leaks: Census;
}

async function runLoad(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const spec = specOf(ctx.params);
  const command = commandOf(ctx.params, DEFAULT_COMMAND);
  const expectStdout = command.join(' ') === DEFAULT_COMMAND.join(' ') ? 'hello\n' : undefined;
  const lifecycles = (ctx.params.lifecycles as number | undefined) ?? DEFAULTS.lifecycles;
  const parallel = (ctx.params.parallel as number | undefined) ?? DEFAULTS.parallel;
  const timeoutMs = ctx.sampling.timeout_s * 1000;

  /** create → exec → destroy; destroy runs whatever happened before it. Resolves with the lifecycle's ms. */
  const lifecycle = async (signal: AbortSignal): Promise<number> => {
    const start = performance.now();
    const sandbox = await backend.create(spec, { signal });
    let exec: Awaited<ReturnType<typeof sandbox.exec>> | undefined;
    try {
      exec = await sandbox.exec({ argv: command, timeoutMs });
    } finally {
      await sandbox.destroy();
    }
    const ms = performance.now() - start;
    checkExec(command, exec, expectStdout);
    return ms;
  };

  ctx.log(`one untimed ${backend.name} lifecycle first (what the backend keeps for the process starts now, not in a run)`);
  const primed = await primeOnce(backend, spec, command, timeoutMs, ctx.signal);
  const runs: LoadRun[] = [];
  const result = await sampleLoop(ctx, failuresAsWorkloadErrors(async (index, signal) => {
    const before = await takeCensus(backend);
    const latencies: number[] = [];
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < lifecycles && !signal.aborted) {
        next++;
        try {
          latencies.push(await lifecycle(signal));
        } catch (error) {
          if (signal.aborted) return;
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, lifecycles) }, worker));
    const leaks = await settledLeaks(backend, before, signal);
    if (index >= ctx.sampling.warmup) runs.push({ latencies_ms: latencies, failures: failures.length, failure_examples: failures.slice(0, KEPT_FAILURES), leaks });
    if (latencies.length === 0) throw new Error(`every one of ${lifecycles} lifecycles failed; the first: ${failures[0]}`);
    return valuesOf(latencies, failures.length, leaks);
  }));
  return { ...result, facts: { ...primed, command, lifecycles, parallel, settle_ms: SETTLE_MS, percentile: "Hyndman & Fan type 7 over the run's successful lifecycles", load_runs: runs } };
}

async function primeOnce(backend: Backend, spec: SandboxSpec, command: string[], timeoutMs: number, signal: AbortSignal): Promise<Record<string, unknown>> {
  const sandbox = await backend.create(spec, { signal });
  try {
    await sandbox.exec({ argv: command, timeoutMs });
  } finally {
    await sandbox.destroy();
  }
  return sandboxFacts(sandbox);
}

/** What is new since `before`, polled until nothing is or SETTLE_MS passed: what is left then leaked. */
async function settledLeaks(backend: Backend, before: Census, signal: AbortSignal): Promise<Census> {
  const deadline = performance.now() + SETTLE_MS;
  for (;;) {
    const leaks = leaksBetween(before, await takeCensus(backend));
    const any = LEAK_KINDS.some((kind) => leaks[kind].length > 0);
    if (!any || signal.aborted || performance.now() >= deadline) return leaks;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

/** A run's values: counts, leaks by kind, the percentiles of its successful lifecycles. Pure. */
export function valuesOf(latencies: readonly number[], failures: number, leaks: Census): SampleValues {
  const sorted = [...latencies].sort((a, b) => a - b);
  const values: SampleValues = { successes: sorted.length, failures };
  for (const kind of LEAK_KINDS) values[`leaked_${kind}`] = leaks[kind].length;
  if (sorted.length > 0) {
    values.lifecycle_p50_ms = quantileSorted(sorted, 0.5);
    values.lifecycle_p99_ms = quantileSorted(sorted, 0.99);
  }
  return values;
}

