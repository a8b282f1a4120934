/**
 * The kill battery: `rigor run <rig>` of one backend started as a child and
 * SIGKILLed at a seeded random point, uniform over a whole run's measured
 * duration (so kills land in launch, exec and destroy alike); then what the
 * design promises, and nothing more: the run's children die with it
 * (parent-death signals, end of the agent's stream), and the next `rigor run`
 * of the backend sweeps what only the dead process could have released
 * (sandbox-core/cleanup.ts). After that sweep, whatever of the killed run is
 * still on the host is a leftover, counted by kind (sandbox-core/leftovers.ts
 * by the run's own owner-pid markers, plus any process still carrying the
 * kill's environment marker). Goal: 0.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../stats/random.ts';
import { readProcTable } from '../../../base/proc-table.ts';
import { SANDBOX_RUN_ROOT } from '../../../sandbox-core/cleanup.ts';
import { findLeftovers, type Leftover, type LeftoverKind } from '../../../sandbox-core/leftovers.ts';
import { hostMountPoints, isInside } from '../../../base/temp-dirs.ts';

const RIGOR = fileURLToPath(new URL('../../../bin/rigor.js', import.meta.url));
/** The environment marker every process a killed run starts inherits (unless a sandbox clears its environment). */
export const KILL_MARKER_ENV = 'RIGOR_KILL_TRIAL';
/** How long the killed run's children get to die of their parent-death signals before the sweep run starts. */
const SETTLE_MS = 10_000;

export interface KillPlan {
  /** The rig every child runs (rigs/<name>.rig.yaml), pinned to one backend. */
  rig: string;
  backend: string;
  /** Samples per child run. */
  iterations: number;
  kills: number;
  seed: number;
  signal?: AbortSignal;
  /** Each child run's deadline (a run that hangs fails the battery). */
  timeoutMs: number;
  log?(message: string): void;
}

export interface KillOutcome {
  /** Milliseconds after the child's spawn it was SIGKILLed. */
  delayMs: number;
  /** False when the run had already exited by then (the kill found nothing to interrupt). */
  landed: boolean;
  pid: number;
  /** What of the run was still there once its children had had SETTLE_MS to die, before the next run's sweep. */
  beforeSweep: Partial<Record<LeftoverKind, number>>;
  /** What was still there after the sweep: the battery's result. */
  leftovers: Leftover[];
}

export interface KillBatteryResult {
  /** The first (reference) run's duration, over which the kill points are spread. */
  runMs: number;
  kills: KillOutcome[];
}

/** The seeded kill points, uniform over [0, runMs) (pure). */
export function killDelays(seed: number, kills: number, runMs: number): number[] {
  const random = createRng(seed);
  return Array.from({ length: kills }, () => Math.floor(random() * runMs));
}

/** `rigor run` of the plan's rig and backend, as a child in its own process group, with its own TMPDIR. */
function startRun(plan: KillPlan, root: string, marker: string) {
  const out = join(root, 'out');
  const temp = join(root, 'tmp');
  mkdirSync(temp, { recursive: true });
  const args = [RIGOR, 'run', plan.rig, '--set', `backend=${plan.backend}`, '--set', 'concurrency=1', '--set', 'sampling.warmup=0', '--iterations', String(plan.iterations), '--out', out, '--quiet', '--no-strict'];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TMPDIR: temp, [KILL_MARKER_ENV]: marker },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  return { child, exited, stderr: () => stderr };
}

/** A whole run (the reference, and the sweep after each kill); throws with its stderr when it fails. */
async function completeRun(plan: KillPlan, root: string, marker: string): Promise<number> {
  const t0 = performance.now();
  const run = startRun(plan, root, marker);
  const deadline = setTimeout(() => run.child.kill('SIGKILL'), plan.timeoutMs);
  const exit = await run.exited;
  clearTimeout(deadline);
  if (exit.code !== 0) throw new Error(`rigor run ${plan.rig} --set backend=${plan.backend} ended ${exit.signal ?? `with ${exit.code}`}: ${run.stderr().trim().split('\n').slice(-3).join(' | ')}`);
  return performance.now() - t0;
}

/** Live processes (not zombies) whose environment carries `marker`. */
export function markedProcesses(marker: string): number[] {
  const entry = `${KILL_MARKER_ENV}=${marker}`;
  return readProcTable()
    .filter((proc) => proc.state !== 'Z' && proc.pid !== process.pid)
    .filter((proc) => {
      try {
        return readFileSync(`/proc/${proc.pid}/environ`, 'latin1').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map((proc) => proc.pid);
}

async function leftoversOf(pid: number, root: string, marker: string): Promise<Leftover[]> {
  const found = (await findLeftovers({ owners: new Set([pid]), tempRoots: [join(root, 'tmp'), SANDBOX_RUN_ROOT] })).map(({ kind, what, owner }) => ({ kind, what, owner }));
  const known = new Set(found.filter((leftover) => leftover.kind === 'process' || leftover.kind === 'daemon').map((leftover) => Number(/^pid (\d+)/.exec(leftover.what)?.[1])));
  for (const straggler of markedProcesses(marker)) {
    if (!known.has(straggler)) found.push({ kind: 'process', what: `pid ${straggler} (${cmdline(straggler)})`, owner: pid });
  }
  return found;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80);
  } catch {
    return '?';
  }
}

function byKind(leftovers: Leftover[]): Partial<Record<LeftoverKind, number>> {
  const counts: Partial<Record<LeftoverKind, number>> = {};
  for (const leftover of leftovers) counts[leftover.kind] = (counts[leftover.kind] ?? 0) + 1;
  return counts;
}

/** Runs the battery: a reference run, then per kill a killed run and the sweeping run after it. */
export async function runKillBattery(plan: KillPlan): Promise<KillBatteryResult> {
  const root = mkdtempSync(join(tmpdir(), 'rigor-kill-battery-'));
  try {
    const runMs = await completeRun(plan, root, `${process.pid}-reference`);
    const delays = killDelays(plan.seed, plan.kills, runMs);
    const kills: KillOutcome[] = [];
    for (const [index, delayMs] of delays.entries()) {
      if (plan.signal?.aborted) break;
      const marker = `${process.pid}-${plan.backend}-${plan.seed}-${index}`;
      const run = startRun(plan, root, marker);
      const pid = run.child.pid!;
      let finished = false;
      void run.exited.then(() => (finished = true));
      await Promise.race([new Promise((resolve) => setTimeout(resolve, delayMs)), run.exited]);
      const landed = !finished;
      run.child.kill('SIGKILL');
      await run.exited;
      // the design's first promise: what the run started dies with it
      const deadline = performance.now() + SETTLE_MS;
      while (markedProcesses(marker).length > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const beforeSweep = byKind(await leftoversOf(pid, root, marker));
      // the second: the next run sweeps what only the dead one could have released
      await completeRun(plan, root, `${marker}-sweep`);
      const leftovers = await leftoversOf(pid, root, marker);
      plan.log?.(`kill ${index + 1}/${delays.length} at ${delayMs} ms${landed ? '' : ' (the run had ended)'}: ${leftovers.length} leftover(s)`);
      kills.push({ delayMs, landed, pid, beforeSweep, leftovers });
    }
    return { runMs, kills };
  } finally {
    // rm -rf through a mount a leftover kept would delete what is mounted there: leave the dir instead
    if (!hostMountPoints().some((point) => isInside(point, root))) rmSync(root, { recursive: true, force: true });
  }
}
