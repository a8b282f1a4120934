/**
 * A run's own steps around its cells, as asv's setup_cache: the rig's
 * `setup` once before the first cell and its `cleanup` once after the last —
 * also after a failure or Ctrl-C — with a scratch directory of the run's own
 * that every cell can reach (`{scratch}` in params, RIGOR_SCRATCH in the
 * command workload's environment). The directory names its owner's pid, so
 * one that a SIGKILLed run left is swept by the next run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleTempDirs } from '../../base/temp-dirs.ts';
import type { CommandLine, Rig } from '../rig/schema.ts';
import { runUntimed } from '../process/untimed.ts';
import { substitute } from '../rig/substitute.ts';
import { notRun } from './cell-result.ts';
import type { Executed } from './execute.ts';
import type { RunPlan } from './plan.ts';

/** The environment variable a cell's commands find the scratch directory in. */
export const SCRATCH_ENV = 'RIGOR_SCRATCH';

/** A new scratch directory for this run, after sweeping those of runs that were killed. */
export function openRunScratch(): string {
  sweepStaleTempDirs();
  return mkdtempSync(join(tmpdir(), `rigor-run-${process.pid}-`));
}

export function removeRunScratch(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** The rig's run-level `setup` or `cleanup` as an argv (a shell string runs under sh -c), `{scratch}` filled in. */
export function runStep(rig: Pick<Rig, 'setup' | 'cleanup'>, step: 'setup' | 'cleanup', scratch: string): string[] | undefined {
  const line: CommandLine | undefined = rig[step];
  if (line === undefined) return undefined;
  const filled = substitute(line, { scratch }) as CommandLine;
  return typeof filled === 'string' ? ['sh', '-c', filled] : filled;
}

export interface RunStepsContext {
  signal: AbortSignal;
  note(line: string): void;
}

/**
 * Run the rig's run-level `setup` or `cleanup` (when it has one) in rigor's
 * working directory with RIGOR_SCRATCH set, within sampling.timeout_s; its
 * failure as a message, null when it ran, or was cut short by `signal`.
 */
export async function runRigStep(plan: RunPlan & { scratch: string }, which: 'setup' | 'cleanup', signal?: AbortSignal): Promise<string | null> {
  const argv = runStep(plan.rig, which, plan.scratch);
  if (!argv) return null;
  try {
    await runUntimed(`run ${which}`, argv, { env: { [SCRATCH_ENV]: plan.scratch }, timeoutMs: plan.rig.sampling.timeout_s * 1000, ...(signal ? { signal } : {}) });
    return null;
  } catch (error) {
    if (signal?.aborted) return null;
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * `execute` the plan between the rig's run setup and cleanup. A setup that
 * fails runs no cell (each is skipped, the run fails with the setup's
 * message); an interrupt during it runs none either. Cleanup runs whatever
 * happened (not cut short by the interrupt), and its failure fails the run.
 */
export async function withRunSteps<E extends Executed>(plan: RunPlan & { scratch: string }, ctx: RunStepsContext, execute: () => Promise<E>): Promise<E | Executed> {
  let executed: E | Executed | undefined;
  try {
    if (plan.rig.setup !== undefined) ctx.note('run setup …');
    const setupFailure = await runRigStep(plan, 'setup', ctx.signal);
    if (setupFailure) executed = notExecuted(plan, 'the run setup failed before this cell', setupFailure);
    else if (ctx.signal.aborted) executed = notExecuted(plan, 'the run was interrupted before this cell');
    else executed = await execute();
  } finally {
    if (plan.rig.cleanup !== undefined) ctx.note('run cleanup …');
    const cleanupFailure = await runRigStep(plan, 'cleanup');
    if (executed && cleanupFailure) executed = { ...executed, failure: executed.failure ?? cleanupFailure };
  }
  return executed;
}

/** Every cell skipped, `failure` (if any) failing the run. */
function notExecuted(plan: RunPlan, reason: string, failure?: string): Executed {
  return { cells: plan.cells.map((planned) => notRun(plan.rig, planned, 'skipped', reason)), tools: {}, ...(failure ? { failure } : {}) };
}
