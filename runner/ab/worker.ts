/**
 * One side of `rigor ab`, as a child process started by the driver with its
 * side's tree as working directory: it loads that tree's rig, plan,
 * workloads and sandbox core (never the driver's), checks every cell once,
 * then takes samples when told to (protocol.ts). The side's run-level setup
 * runs once when it plans, its cleanup once when it closes, in a scratch
 * directory of the worker's own, as `rigor run` does for a whole run.
 * Ctrl-C is the driver's to handle: the worker ignores SIGINT and stops a
 * take (or the setup) when the driver says `abort`; if the driver dies (the
 * IPC channel closes) it cleans up, tears its sandboxes down and exits.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CellContext, Workload, WorkloadResult } from '../contract/workload.ts';
import { roundSampling } from '../interleave/rounds.ts';
import type { Reply, Request, PlannedSideCell } from './protocol.ts';
import { OPTIONAL_SIDE_MODULES, SIDE_MODULES } from './protocol.ts';

type SideModules = { [K in keyof typeof SIDE_MODULES]: any } & { [K in keyof typeof OPTIONAL_SIDE_MODULES]?: any };

const tree = process.cwd();
let side: SideModules | undefined;
let planned: { rig: any; cells: Map<string, any>; scratch?: string } | undefined;
/** The plan the run-level steps run for (its rig and scratch directory), once the scratch directory exists. */
let stepsPlan: { rig: any; scratch: string } | undefined;
let inFlight: AbortController | undefined;
let closing = false;

/** A problem of this side's tree, said as is (no stack). */
class SideProblem extends Error {
  override name = 'SideProblem';
}

function send(reply: Reply): void {
  process.send?.(reply);
}

async function loadSide(): Promise<SideModules> {
  const missing = Object.values(SIDE_MODULES).filter((rel) => !existsSync(join(tree, rel)));
  if (missing.length > 0) {
    throw new SideProblem(`this tree has no ${missing.join(', ')}: rigor ab measures commits whose runner has them (the layout since the one-way layers)`);
  }
  const optional = Object.entries(OPTIONAL_SIDE_MODULES).filter(([, rel]) => existsSync(join(tree, rel)));
  const entries = await Promise.all(
    [...Object.entries(SIDE_MODULES), ...optional].map(async ([key, rel]) => [key, await import(pathToFileURL(join(tree, rel)).href)] as const),
  );
  return Object.fromEntries(entries) as SideModules;
}

function hostFacts(modules: SideModules) {
  return {
    isRoot: process.getuid?.() === 0,
    hasBinary: (name: string) => modules.which.which(name) !== null,
    kvmUsable: async () => {
      const kvm = await modules.kvm.probeKvm();
      return { usable: kvm.status === 'usable', reason: `${kvm.status}: ${kvm.reason}` };
    },
  };
}

async function plan(request: Extract<Request, { type: 'plan' }>): Promise<void> {
  side = await loadSide();
  const rigPath = join(tree, 'rigs', `${request.rig}.rig.yaml`);
  if (!existsSync(rigPath)) throw new SideProblem(`this tree has no rig ${request.rig} (rigs/${request.rig}.rig.yaml)`);
  const loaded = side.load.loadRig(rigPath, { workloads: side.workloads.isWorkload });
  const { rig } = side.overrides.applyOverrides(loaded.rig, request.sets);
  const scratch: string | undefined = side.steps?.openRunScratch();
  if (scratch !== undefined) stepsPlan = { rig, scratch };
  const runPlan = side.plan.planRun(rig, { iterations: request.iterations, workloads: side.workloads.getWorkload, ...(scratch !== undefined ? { scratch } : {}) });
  const facts = hostFacts(side);
  const cells: PlannedSideCell[] = [];
  for (const cell of runPlan.cells) {
    const base = { id: cell.cell.id, params: cell.cell.params, iterations: cell.sampling.iterations, warmup: cell.sampling.warmup, concurrency: cell.sampling.concurrency };
    if (!cell.workload) {
      cells.push({ ...base, status: 'failed', reason: `unknown workload ${JSON.stringify(cell.workloadName)}` });
      continue;
    }
    if (cell.paramsError) throw cell.paramsError;
    if (cell.problems.length > 0) {
      cells.push({ ...base, status: 'failed', reason: `invalid params: ${cell.problems.join('; ')}` });
      continue;
    }
    const missing = (await side.requirements.missingRequirement(cell.requirements, cell.params, facts)) ?? (await cell.workload.skipReason?.(cell.params)) ?? null;
    cells.push(missing ? { ...base, status: 'skipped', reason: missing } : { ...base, status: 'ready' });
  }
  planned = { rig, cells: new Map(runPlan.cells.map((cell: any) => [cell.cell.id, cell])), ...(scratch !== undefined ? { scratch } : {}) };
  // Once for this side, before its first take; the driver's `abort` cuts it short.
  if (stepsPlan) {
    inFlight = new AbortController();
    try {
      const failure: string | null = await side.steps.runRigStep(stepsPlan, 'setup', inFlight.signal);
      if (failure) throw new SideProblem(failure);
    } finally {
      inFlight = undefined;
    }
  }
  send({
    type: 'planned',
    rig: { name: rig.name, path: `rigs/${request.rig}.rig.yaml`, sha256: loaded.sha256, definition: loaded.rig, effective: rig },
    cells,
    tools: runPlan.tools,
    usesKvm: side.plan.usesKvm?.(runPlan) ?? true,
  });
}

async function take(request: Extract<Request, { type: 'take' }>): Promise<void> {
  const cell = planned?.cells.get(request.cell);
  if (!planned || !cell) throw new Error(`no planned cell ${request.cell}`);
  const workload = cell.workload as Workload;
  inFlight = new AbortController();
  const ctx: CellContext = {
    rig: planned.rig,
    cellId: request.cell,
    params: cell.params,
    sampling: roundSampling(cell.sampling, request.count, request.warmup),
    metrics: Object.keys(planned.rig.metrics),
    signal: inFlight.signal,
    progress: () => {},
    log: () => {},
    ...(planned.scratch !== undefined ? { scratch: planned.scratch } : {}),
  };
  try {
    const result: WorkloadResult = await workload.run(ctx);
    send({ type: 'taken', id: request.id, result });
  } catch (error) {
    // The side's own WorkloadError class, known by name: the driver's is another module instance.
    if (error instanceof Error && error.name === 'WorkloadError') {
      const partial = (error as Error & { partial?: WorkloadResult }).partial;
      send({ type: 'take-failed', id: request.id, message: error.message, ...(partial ? { partial } : {}) });
    } else throw error;
  } finally {
    inFlight = undefined;
  }
}

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  inFlight?.abort();
  const leftovers: string[] = [];
  let cleanupFailure: string | null = null;
  if (side) {
    if (stepsPlan) {
      cleanupFailure = await side.steps.runRigStep(stepsPlan, 'cleanup');
      side.steps.removeRunScratch(stepsPlan.scratch);
    }
    const reclaimed = await side.cleanup.destroyAllSandboxes();
    for (const failed of reclaimed.failed) leftovers.push(`${failed.id}: ${failed.error}`);
  }
  send({ type: 'closed', leftovers, ...(cleanupFailure ? { cleanup_failure: cleanupFailure } : {}) });
  // Modules of the side may hold handles (a database, a timer): the worker's work is over.
  setImmediate(() => process.exit(0));
}

// The terminal's Ctrl-C reaches the whole process group; the driver decides what it means.
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  if (closing) return;
  void close().finally(() => process.exit(0));
});
process.on('message', (message: Request) => {
  if (message.type === 'abort') {
    inFlight?.abort();
    return;
  }
  const work = message.type === 'plan' ? plan(message) : message.type === 'take' ? take(message) : close();
  work.catch((error: unknown) => {
    // What the side says about its input (a rig that does not load, a missing module) is its message; a crash keeps its stack.
    const said = error instanceof Error && ['SideProblem', 'InputError', 'RigError', 'RigFileError'].includes(error.name);
    const text = error instanceof Error ? (said ? error.message : (error.stack ?? error.message)) : String(error);
    send({ type: 'error', ...('id' in message ? { id: message.id } : {}), message: text });
  });
});
