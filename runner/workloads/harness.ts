/**
 * `harness.fidelity`: how close rigor's command timing is to hyperfine's.
 * One command is timed in one cell three ways (native spawner, node spawner,
 * `hyperfine -N`), interleaved in rounds with a rotating order so machine
 * drift falls on all three alike. rigor's two are timed through the command
 * workload's own sampling path (sampleCommand), so the harness measures what
 * a `command` rig gets.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolVersion } from '../host/tools.ts';
import { median } from '../stats/percentile.ts';
import { commandOf, loopKind, sampleCommand } from './command.ts';
import { parseCommandParams, type CommandParams } from './command-params.ts';
import { type ResolvedCommand, type Spawner } from '../process/spawner.ts';
import { openSpawner } from '../process/open-spawner.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { runUntimed } from '../process/untimed.ts';
import { argvProblems, wholeNumberProblems } from './param-checks.ts';
import { budgetReached, timerDelay } from '../sampling/loop.ts';
import { shellQuote } from '../../base/shell-quote.ts';

export const FIDELITY_GOAL = 'within 5% of hyperfine and < 0.2 ms overhead per sample';
const GOAL_RATIO = 0.05;
const GOAL_OVERHEAD_MS = 0.2;
const DEFAULT_ROUNDS = 5;

type Tool = 'rigor_native_ms' | 'rigor_node_ms' | 'hyperfine_ms';
const TOOLS: readonly Tool[] = ['rigor_native_ms', 'rigor_node_ms', 'hyperfine_ms'];

/** The tool order of round r: the three rotated by r. */
export function roundOrder(round: number): Tool[] {
  return TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length] as Tool);
}

function validateHarnessParams(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  problems.push(...argvProblems(params, 'run', { required: true }));
  problems.push(...wholeNumberProblems(params, 'rounds', { unit: 'rounds' }));
  return problems;
}

export const harnessWorkload: Workload = {
  name: 'harness.fidelity',
  description: "rigor's command timing (native and node spawners) side by side with hyperfine -N, interleaved in rounds",
  validateParams: validateHarnessParams,
  requirements(params) {
    const run = params.run;
    return [{ binary: 'hyperfine' }, ...(Array.isArray(run) && typeof run[0] === 'string' ? [{ binary: run[0] }] : [])];
  },
  run: runHarness,
};

async function runHarness(ctx: CellContext): Promise<WorkloadResult> {
  const argv = ctx.params.run as string[];
  const params = parseCommandParams({ run: argv });
  // Found once, untimed; all three exec this path, so none of them times a PATH search.
  const command = commandOf(params);
  const rounds = (ctx.params.rounds as number | undefined) ?? DEFAULT_ROUNDS;
  const { warmup, iterations, timeout_s, max_seconds } = ctx.sampling;
  // Exactly `iterations` runs per tool: the first iterations % rounds rounds take one more.
  const runsIn = (round: number) => Math.floor(iterations / rounds) + (round < iterations % rounds ? 1 : 0);
  const perRound = runsIn(0);
  const timeoutMs = timeout_s * 1000;
  const samples: Record<Tool, number[]> = { rigor_native_ms: [], rigor_node_ms: [], hyperfine_ms: [] };
  const version = toolVersion('hyperfine');
  const native = await openSpawner('native');
  const node = await openSpawner('node');
  const dir = await mkdtemp(join(tmpdir(), 'rigor-harness-'));
  const budget = AbortSignal.timeout(timerDelay(max_seconds));
  const signal = AbortSignal.any([ctx.signal, budget]);
  let roundsDone = 0;
  try {
    if (native.spawner.kind !== 'native') throw new WorkloadError(`the native spawner is unavailable: ${native.note}`);
    const block: Record<Tool, (runs: number) => Promise<number[]>> = {
      rigor_native_ms: (runs) => commandBlock(ctx, params, command, native.spawner, 'rigor_native_ms', runs, signal),
      rigor_node_ms: (runs) => commandBlock(ctx, params, command, node.spawner, 'rigor_node_ms', runs, signal),
      hyperfine_ms: (runs) => hyperfineBlock([command.file, ...argv.slice(1)], warmup, runs, join(dir, 'hyperfine.json'), timeoutMs * (warmup + runs), signal),
    };
    const total = TOOLS.length * iterations;
    let done = 0;
    for (let round = 0; round < rounds && runsIn(round) > 0; round++) {
      for (const tool of roundOrder(round)) {
        samples[tool].push(...(await block[tool](runsIn(round))));
        done += runsIn(round);
        ctx.progress({ phase: 'sample', done, total });
      }
      roundsDone++;
    }
  } catch (error) {
    if (!signal.aborted) throw error instanceof WorkloadError ? new WorkloadError(error.message, { samples }) : error;
  } finally {
    await Promise.all([native.spawner.close(), node.spawner.close(), rm(dir, { recursive: true, force: true })]);
  }
  const result: WorkloadResult = {
    samples,
    facts: {
      ...fidelityFacts(samples, rounds, perRound, version, native.note),
      loop_native: loopKind(params, { concurrency: 1 }, native.spawner),
      exec_path: command.file,
    },
    tools: { hyperfine: version },
  };
  if (ctx.signal.aborted) result.truncated = 'interrupted';
  else if (budget.aborted) result.truncated = budgetReached(max_seconds, roundsDone, rounds, 'rounds');
  return result;
}

/**
 * `warmup` discarded runs, then `runs` timed ones, with output discarded as
 * hyperfine -N does by default, through the command workload's sampling path.
 */
async function commandBlock(
  ctx: CellContext,
  params: CommandParams,
  command: ResolvedCommand,
  spawner: Spawner,
  metric: Tool,
  runs: number,
  signal: AbortSignal,
): Promise<number[]> {
  const block: CellContext = {
    ...ctx,
    sampling: { ...ctx.sampling, iterations: runs, max_iterations: runs, min_seconds: 0, concurrency: 1 },
    metrics: [metric],
    signal,
    progress: () => {},
  };
  try {
    const result = await sampleCommand(block, params, command, spawner, { wall: metric });
    signal.throwIfAborted();
    return result.samples[metric] ?? [];
  } catch (error) {
    if (error instanceof WorkloadError) throw new WorkloadError(`${spawner.kind} spawner: ${error.message}`);
    throw error;
  }
}

async function hyperfineBlock(argv: string[], warmup: number, runs: number, exportPath: string, timeoutMs: number, signal: AbortSignal): Promise<number[]> {
  const args = ['-N', '--warmup', String(warmup), '--runs', String(runs), '--export-json', exportPath, '--style', 'none', '--', shellQuote(argv)];
  await runUntimed('hyperfine', ['hyperfine', ...args], { signal, timeoutMs });
  const exported = JSON.parse(await readFile(exportPath, 'utf8')) as { results: { times: number[] }[] };
  return (exported.results[0]?.times ?? []).map((seconds) => seconds * 1000);
}

function fidelityFacts(samples: Record<Tool, number[]>, rounds: number, perRound: number, version: string | null, spawnerNote: string) {
  const mid = (tool: Tool) => (samples[tool].length > 0 ? median(samples[tool]) : null);
  const native = mid('rigor_native_ms');
  const node = mid('rigor_node_ms');
  const hyperfine = mid('hyperfine_ms');
  const ratio = (value: number | null) => (value === null || hyperfine === null ? null : value / hyperfine);
  const overhead = (value: number | null) => (value === null || hyperfine === null ? null : value - hyperfine);
  const ratioNative = ratio(native);
  const ratioNode = ratio(node);
  const overheadNative = overhead(native);
  const goalMet = ratioNative !== null && overheadNative !== null && Math.abs(ratioNative - 1) <= GOAL_RATIO && overheadNative < GOAL_OVERHEAD_MS;
  // Reading lower than hyperfine is not overhead: hyperfine's timed window holds
  // its own per-run syscalls (opens of /dev/null, prlimit64, getrusage), rigor's does not.
  const overheadGoalMet = ratioNative !== null && overheadNative !== null && ratioNative <= 1 + GOAL_RATIO && overheadNative < GOAL_OVERHEAD_MS;
  return {
    summary: fidelitySummary(ratioNative, overheadNative, ratioNode, goalMet, overheadGoalMet),
    median_ratio_native: ratioNative,
    median_ratio_node: ratioNode,
    overhead_native_ms: overheadNative,
    overhead_node_ms: overhead(node),
    hyperfine_version: version,
    rounds,
    runs_per_round: perRound,
    goal: FIDELITY_GOAL,
    goal_met_native: goalMet,
    overhead_goal_met_native: overheadGoalMet,
    spawner: spawnerNote,
  };
}

/**
 * One line for the results table, e.g. "native 0.97× hyperfine (−0.02 ms/sample),
 * node spawn 3.6×: goal met". When rigor reads more than 5% *below* hyperfine
 * the line says so: no overhead added, but not "within 5%" either.
 */
export function fidelitySummary(
  ratioNative: number | null,
  overheadNative: number | null,
  ratioNode: number | null,
  goalMet: boolean,
  overheadGoalMet = goalMet,
): string {
  if (ratioNative === null || overheadNative === null) return 'no native and hyperfine samples to compare: goal not met';
  const signed = `${overheadNative < 0 ? '−' : '+'}${Math.abs(overheadNative).toFixed(2)}`;
  const node = ratioNode === null ? '' : `, node spawn ${ratioNode.toFixed(1)}×`;
  const verdict = goalMet
    ? 'goal met'
    : overheadGoalMet
      ? `no overhead over hyperfine, but ${Math.round((1 - ratioNative) * 100)}% below it: "within 5%" not met`
      : 'goal not met';
  return `native ${ratioNative.toFixed(2)}× hyperfine (${signed} ms/sample)${node}: ${verdict}`;
}
