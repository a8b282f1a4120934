/**
 * The `callgrind` workload: counts, not times. Each sample is the number of
 * instructions (callgrind's Ir) one run of a program executed under valgrind
 * --tool=callgrind: a command run to its exit, or the project's native agent
 * answering EXEC requests (`drive: agent-exec`). With `toggle_collect` only
 * the instructions inside the named functions count, so start-up, idle loops
 * and whatever varies with timing stay out. The count does not depend on the
 * host's speed or load, so its gates can be tight.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../base/errors.ts';
import { lastLines } from '../../../base/tail.ts';
import { sweepStaleTempDirs } from '../../../base/temp-dirs.ts';
import { which } from '../../../base/which.ts';
import { nativeAgentPath } from '../../../sandbox-core/agent/build.ts';
import { DEFAULT_PATH } from '../../../sandbox-core/default-path.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../../contract/workload.ts';
import type { MetricDef, Requirement } from '../../rig/schema.ts';
import { describeProgram, resolveCommand } from '../../process/program.ts';
import { runLabel, sampleLoop } from '../../sampling/loop.ts';
import { agentExecDriver } from './agent-exec.ts';
import { CallgrindOutError, instructionsIn } from './out-file.ts';
import { CallgrindParamsSchema, callgrindTargetProblems, parseCallgrindParams, type CallgrindParams } from './params.ts';
import { callgrindArgs, DriveError, runUnderCallgrind, valgrindVersion, type CallgrindRun, type Driver } from './valgrind.ts';

/** The metrics this workload fills: counted, in instructions; each gets the run's Ir. */
export function cannotFillCallgrind(metric: MetricDef): string | null {
  return metric.kind === 'counted' && metric.unit === 'instructions'
    ? null
    : 'a counted metric in instructions (kind: counted, unit: instructions): the callgrind workload counts the instructions executed, Ir; it times nothing';
}

export const callgrindWorkload: Workload = {
  name: 'callgrind',
  description: 'counts the instructions (Ir) a command, or the native agent answering EXECs, executes under valgrind --tool=callgrind',
  paramsSchema: CallgrindParamsSchema,
  validateParams: callgrindTargetProblems,
  cannotFill: cannotFillCallgrind,
  requirements(params): Requirement[] {
    const run = params.run;
    return [{ binary: 'valgrind' }, ...(params.drive === undefined && Array.isArray(run) && typeof run[0] === 'string' ? [{ binary: run[0] }] : [])];
  },
  run: (ctx) => runCallgrindCell(ctx, parseCallgrindParams(ctx.params)),
};

/** The program and its driver: the command as given (argv[0] resolved), or the native agent built from source. */
async function target(p: CallgrindParams, ctx: CellContext, facts: Record<string, unknown>): Promise<{ argv: string[]; drive?: Driver; expectExit: number | 'any' }> {
  if (p.target.kind === 'command') {
    // Found once, before anything runs; valgrind is handed the absolute path.
    let command: ReturnType<typeof resolveCommand>;
    try {
      command = resolveCommand(p.target.run);
    } catch (error) {
      throw new WorkloadError((error as Error).message);
    }
    facts.program = describeProgram(command);
    return { argv: [command.file, ...command.argv.slice(1)], expectExit: p.target.expectExit };
  }
  const { requests, exec } = p.target;
  let agent: string;
  try {
    agent = await nativeAgentPath();
  } catch (error) {
    throw new WorkloadError(`the native agent could not be built: ${(error as Error).message}`);
  }
  facts.agent = { path: agent, requests, exec };
  const onHello = (version: string) => (facts.agent = { ...(facts.agent as object), version });
  return { argv: [agent], drive: agentExecDriver({ requests, exec, helloTimeoutMs: ctx.sampling.timeout_s * 1000, onHello }), expectExit: 0 };
}

async function runCallgrindCell(ctx: CellContext, p: CallgrindParams): Promise<WorkloadResult> {
  const metrics = ctx.metrics.filter((name) => ctx.rig.metrics[name] && cannotFillCallgrind(ctx.rig.metrics[name]) === null);
  if (metrics.length === 0) {
    throw new InputError(`rig ${ctx.rig.name}: metrics: the callgrind workload needs a counted metric in instructions, found ${ctx.metrics.join(', ') || 'none'}`);
  }
  const valgrind = which('valgrind');
  if (!valgrind) throw new WorkloadError('valgrind is not on PATH (Debian: apt-get install valgrind)');
  const version = valgrindVersion(valgrind);
  const facts: Record<string, unknown> = {
    callgrind: {
      args: callgrindArgs('<temp dir>/callgrind.out.%p', p.toggleCollect),
      counted:
        p.toggleCollect.length > 0
          ? `starting off, counting toggled on entering and leaving each of ${p.toggleCollect.join(', ')} (what they call included; one entered while counting pauses it)`
          : 'every instruction of the program',
      env: { PATH: DEFAULT_PATH, ...p.env },
    },
  };
  const tools = { valgrind: version };
  sweepStaleTempDirs();
  // Named for its owner's pid, so a later rigor removes it when this one was SIGKILLed.
  const dir = await mkdtemp(join(tmpdir(), `rigor-callgrind-${process.pid}-`));
  try {
    const { argv, drive, expectExit } = await target(p, ctx, facts);
    const env = { PATH: DEFAULT_PATH, ...p.env };
    const result = await sampleLoop(ctx, async (index, signal) => {
      const label = runLabel(index, ctx.sampling.warmup);
      const runDir = join(dir, String(index));
      await mkdir(runDir);
      try {
        const run = await runCounted(argv, { valgrind, dir: runDir, toggleCollect: p.toggleCollect, env, drive, signal }, label);
        if (expectExit !== 'any' && run.exitCode !== expectExit) throw unexpectedExit(label, argv, run, expectExit);
        const instructions = await countIn(run.outFile, label);
        if (instructions === 0 && p.toggleCollect.length > 0) {
          throw new WorkloadError(
            `${label}: callgrind counted 0 instructions: none of toggle_collect (${p.toggleCollect.join(', ')}) ran, or the compiler inlined it away (nm shows a binary's functions)`,
          );
        }
        return Object.fromEntries(metrics.map((name) => [name, instructions]));
      } finally {
        await rm(runDir, { recursive: true, force: true });
      }
    });
    return { ...result, facts, tools };
  } catch (error) {
    if (error instanceof WorkloadError) throw new WorkloadError(error.message, { samples: {}, ...error.partial, facts, tools });
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runCounted(argv: string[], options: Parameters<typeof runUnderCallgrind>[1], label: string): Promise<CallgrindRun> {
  try {
    return await runUnderCallgrind(argv, options);
  } catch (error) {
    if (options.signal.aborted) throw error;
    if (error instanceof DriveError) throw new WorkloadError(`${label}: ${error.message}${stderrClause(error.stderrTail)}`);
    throw new WorkloadError(`${label}: valgrind ${argv.join(' ')} could not start: ${(error as Error).message}`);
  }
}

async function countIn(outFile: string, label: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(outFile, 'utf8');
  } catch (error) {
    throw new WorkloadError(`${label}: callgrind wrote no ${outFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return instructionsIn(text, outFile);
  } catch (error) {
    if (error instanceof CallgrindOutError) throw new WorkloadError(`${label}: ${error.message}`);
    throw error;
  }
}

function stderrClause(tail: string): string {
  const lines = lastLines(tail, 20);
  return lines ? `; last 20 lines of stderr:\n${lines}` : '; stderr was empty';
}

function unexpectedExit(label: string, argv: string[], run: CallgrindRun, expected: number): WorkloadError {
  const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
  return new WorkloadError(`${label}: ${argv.join(' ')} under callgrind ${how}, expected exit code ${expected}${stderrClause(run.stderrTail)}`);
}
