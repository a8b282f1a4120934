/**
 * `rigor ab`: base and head measured side by side in one run. Each side runs
 * from its own tree (a git worktree of the base commit; the head is the
 * checkout itself unless a ref is given) in a worker of its own; the driver
 * shuffles every round's order of (side, cell) slots, k samples each, so the
 * drift of a shared host falls on both sides alike. One artifact holds both
 * sides, the rounds and their order; its gates are paired (runner/gate/paired.ts).
 */
import { randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { AbSide, Artifact, CellResult } from '../artifact/schema.ts';
import { writeArtifactOrRecover } from '../artifact/recovery.ts';
import { assertWritableDestination } from '../artifact/write.ts';
import { WorkloadError } from '../contract/workload.ts';
import { evaluatePairedGates } from '../gate/paired.ts';
import { collectHost, finishHost } from '../host/collect.ts';
import { collectGit } from '../host/git.ts';
import { interleaveRecord, runRounds, slotTools, SlotUnusable, type RoundSlot, type RoundsOutcome } from '../interleave/rounds.ts';
import { planRounds, type RoundOptions } from '../interleave/schedule.ts';
import type { Rig } from '../rig/schema.ts';
import { assembleArtifact } from '../run/assemble.ts';
import { metricResults } from '../run/cell-result.ts';
import { roundLine } from '../run/execute-interleaved.ts';
import type { ProgressSink } from '../run/progress.ts';
import type { PlannedSideCell } from './protocol.ts';
import { SideError, SideWorker, type SideName, type SidePlan } from './side-worker.ts';
import { addWorktree, closeScratch, openScratch, resolveCommit, workingTree, type SideTree } from './trees.ts';

export interface AbOptions {
  /** The checkout rigor runs from: worktrees are made from its repository; the head side by default. */
  root: string;
  /** Rig name: each side runs its own rigs/<name>.rig.yaml. */
  rig: string;
  base: string;
  /** A ref for the head side; the working tree when absent. */
  head?: string;
  sets?: string[];
  iterations?: number;
  rounds: RoundOptions;
  maxSeconds?: number;
  outDir?: string;
  commandLine: string[];
  progress: ProgressSink;
  signal: AbortSignal;
}

export interface AbOutcome {
  artifact: Artifact;
  path: string;
}

const SIDES: readonly SideName[] = ['base', 'head'];

/** `rigs/startup.rig.yaml` or `startup`: the rig's name, which each side looks up in its own tree. */
export function rigName(argument: string): string {
  return basename(argument).replace(/\.rig\.ya?ml$/, '');
}

export async function runAb(options: AbOptions): Promise<AbOutcome> {
  const { root, progress, signal } = options;
  const rig = rigName(options.rig);
  // Refs first: a typo costs nothing.
  const baseCommit = await resolveCommit(root, 'base', options.base);
  const headCommit = options.head !== undefined ? await resolveCommit(root, 'head', options.head) : null;
  const outDir = options.outDir ?? resolve(root, 'results', rig, 'ab');
  // And where the artifact goes, before anything is measured.
  assertWritableDestination(outDir);

  const scratch = await openScratch(root);
  const trees: SideTree[] = [];
  const workers: SideWorker[] = [];
  const onAbort = () => workers.forEach((worker) => worker.abort());
  signal.addEventListener('abort', onAbort);
  try {
    trees.push(await addWorktree(root, scratch, 'base', options.base, baseCommit, (line) => progress.note(line)));
    trees.push(headCommit ? await addWorktree(root, scratch, 'head', options.head!, headCommit, (line) => progress.note(line)) : workingTree(root));
    for (const tree of trees) progress.note(`${tree.side}: ${describeTree(tree)}`);
    for (const tree of trees) workers.push(new SideWorker(tree.side, tree.path));
    const plans = await Promise.all(workers.map((worker) => worker.plan(rig, options.sets ?? [], options.iterations)));
    const [basePlan, headPlan] = plans as [SidePlan, SidePlan];
    const matched = matchCells(basePlan.cells, headPlan.cells);
    for (const cell of matched) if (cell.reason) progress.note(`${cell.id}: not measured: ${cell.reason}`);

    const measured = matched.filter((cell) => !cell.reason);
    const slots: RoundSlot[] = measured.flatMap((cell) =>
      SIDES.map((side, i) => ({
        key: `${side}:${cell.id}`,
        warmup: cell[side]!.warmup,
        take: async (count: number, warmup: number) => {
          const outcome = await workers[i]!.take(cell.id, count, warmup);
          if (!outcome.ok) throw new WorkloadError(outcome.message, outcome.partial);
          return outcome.result;
        },
      })),
    );
    const roundPlan = planRounds(
      measured.flatMap((cell) => SIDES.map((side) => ({ key: `${side}:${cell.id}`, iterations: cell[side]!.iterations }))),
      options.rounds,
    );
    const startedAt = new Date().toISOString();
    const host = await collectHost({ tools: [...new Set([...basePlan.tools, ...headPlan.tools])].sort(), probeKvm: basePlan.usesKvm || headPlan.usesKvm });
    let outcome: RoundsOutcome;
    try {
      outcome = await runRounds(slots, roundPlan, {
        signal,
        ...(options.maxSeconds !== undefined ? { maxSeconds: options.maxSeconds } : {}),
        events: { take: (round, rounds, position, count, key) => progress.status(roundLine(round, rounds, position, count, key)) },
      });
    } catch (error) {
      if (error instanceof SlotUnusable) {
        const [side, ...cell] = error.key.split(':');
        throw new SideError(side as SideName, `cell ${cell.join(':')} cannot run (nothing was measured): ${error.reason}`);
      }
      throw error;
    }
    progress.close();
    const leftovers = (await Promise.all(workers.map((worker) => worker.close()))).flat();

    const sideRig = (plan: SidePlan) => plan.rig.effective as Rig;
    const headRig = sideRig(headPlan);
    const cellsOf = (side: SideName, plan: SidePlan): CellResult[] =>
      matched.map((cell) => sideCell(side, cell, sideRig(plan), outcome));
    const baseCells = cellsOf('base', basePlan);
    const headCells = cellsOf('head', headPlan);
    const headTree = trees[1]!;
    const git = headTree.tree === 'working-tree' ? collectGit(root) : { commit: headTree.commit, branch: null, dirty: false, dirty_paths: [] };
    const artifact = assembleArtifact({
      rig: headRig,
      definition: headPlan.rig.definition as Rig,
      rigPath: headPlan.rig.path,
      rigSha256: headPlan.rig.sha256,
      runId: randomUUID(),
      commandLine: options.commandLine,
      overrides: { ...(options.sets?.length ? { set: options.sets } : {}), ...(options.iterations !== undefined ? { iterations: options.iterations } : {}) },
      startedAt,
      finishedAt: new Date().toISOString(),
      interrupted: signal.aborted,
      executed: { cells: headCells, tools: slotTools(outcome), ...(closeFailure(workers, leftovers) ? { failure: closeFailure(workers, leftovers)! } : {}) },
      git,
      host: finishHost(host),
      env: process.env,
    });
    artifact.run.mode = 'ab';
    artifact.interleave = interleaveRecord(roundPlan, outcome);
    artifact.ab = { base: abSide(trees[0]!, basePlan), head: abSide(headTree, headPlan), base_cells: baseCells };
    artifact.gates = evaluatePairedGates(headRig.gates, headRig.metrics, artifact as Artifact & { ab: NonNullable<Artifact['ab']> });
    const path = writeArtifactOrRecover(artifact, outDir, { lastResort: (text) => process.stdout.write(text) });
    return { artifact, path };
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Whatever went wrong above, no worker, worktree or scratch directory outlives the run.
    await Promise.all(workers.map((worker) => worker.close().catch(() => worker.kill())));
    await closeScratch(root, scratch, trees);
  }
}

/** What went wrong as the workers closed: a side's run cleanup, sandboxes that could not be destroyed; null when nothing did. */
function closeFailure(workers: readonly SideWorker[], leftovers: readonly string[]): string | null {
  const failures = [
    ...workers.flatMap((worker) => (worker.cleanupFailure ? [`${worker.side}: ${worker.cleanupFailure}`] : [])),
    ...(leftovers.length > 0 ? [`could not destroy sandboxes: ${leftovers.join('; ')}`] : []),
  ];
  return failures.length > 0 ? failures.join('; ') : null;
}

interface MatchedCell {
  id: string;
  params: Record<string, unknown>;
  base?: PlannedSideCell;
  head?: PlannedSideCell;
  /** Why the cell is not measured (on one side only, or not ready on a side); unset when it is. */
  reason?: string;
}

/** The head's cells in its order, then the base's own; a cell is measured only when both sides can run it. */
export function matchCells(base: readonly PlannedSideCell[], head: readonly PlannedSideCell[]): MatchedCell[] {
  const baseById = new Map(base.map((cell) => [cell.id, cell]));
  const headIds = new Set(head.map((cell) => cell.id));
  const matched: MatchedCell[] = head.map((cell) => ({ id: cell.id, params: cell.params, head: cell, ...(baseById.has(cell.id) ? { base: baseById.get(cell.id)! } : {}) }));
  for (const cell of base) if (!headIds.has(cell.id)) matched.push({ id: cell.id, params: cell.params, base: cell });
  for (const cell of matched) {
    const missing = SIDES.find((side) => !cell[side]);
    const notReady = SIDES.find((side) => cell[side] && cell[side]!.status !== 'ready');
    if (missing) cell.reason = `the ${missing} side's rig has no such cell`;
    else if (notReady) cell.reason = `${cell[notReady]!.status} on the ${notReady} side: ${cell[notReady]!.reason ?? 'no reason given'}`;
  }
  return matched;
}

function sideCell(side: SideName, cell: MatchedCell, rig: Rig, outcome: RoundsOutcome): CellResult {
  const planned = cell[side] ?? cell.base ?? cell.head!;
  const head = { id: cell.id, params: cell.params, concurrency: planned.concurrency, warmup: planned.warmup };
  if (cell.reason) {
    const status = cell[side]?.status === 'failed' ? 'failed' : 'skipped';
    return { ...head, status, reason: cell.reason, metrics: metricResults(rig, {}) };
  }
  const slot = outcome.slots.get(`${side}:${cell.id}`)!;
  const truncated = slot.truncated ?? outcome.truncated;
  return {
    ...head,
    status: slot.failed ? 'failed' : 'ok',
    ...(slot.failed ? { reason: slot.failed } : {}),
    ...(truncated ? { truncated } : {}),
    ...(slot.facts ? { facts: slot.facts } : {}),
    metrics: metricResults(rig, slot.samples, slot.batchIterations, slot.rounds),
  };
}

function abSide(tree: SideTree, plan: SidePlan): AbSide {
  return {
    ref: tree.ref,
    commit: tree.commit,
    dirty: tree.dirty,
    dirty_paths: tree.dirty_paths,
    tree: tree.tree,
    dependencies: tree.dependencies,
    rig_sha256: plan.rig.sha256,
  };
}

function describeTree(tree: SideTree): string {
  const commit = tree.commit ? tree.commit.slice(0, 12) : 'no commit';
  if (tree.tree === 'working-tree') return `this checkout at ${commit}${tree.dirty ? ` with ${tree.dirty_paths.length} uncommitted path(s)` : ''}`;
  return `${tree.ref} = ${commit}, worktree ${tree.path}, dependencies ${tree.dependencies}`;
}
