/**
 * Run one rig end to end: load and validate it, expand its matrix, measure each
 * cell (or record why it was skipped), summarise, evaluate absolute gates, and
 * write one schema-valid artifact. The artifact is written also when the run is
 * interrupted (status `interrupted`, holding what was measured).
 */
import { randomUUID } from 'node:crypto';
import { relative, resolve } from 'node:path';
import type { Artifact, CellResult, MetricResult } from '../artifact/schema.ts';
import { ARTIFACT_SCHEMA_ID } from '../artifact/schema.ts';
import { writeArtifact } from '../artifact/write.ts';
import { evaluateGates } from '../gate/evaluate.ts';
import { collectHost, finishHost } from '../host/collect.ts';
import { collectGit } from '../host/git.ts';
import { probeKvm } from '../../sandbox-core/kvm/probe.ts';
import { loadRig } from '../rig/load.ts';
import { expandMatrix, type Cell } from '../rig/matrix.ts';
import { applyOverrides } from '../rig/overrides.ts';
import { missingRequirement, type HostFacts } from '../rig/requirements.ts';
import { which } from '../../base/which.ts';
import type { Requirement, Rig } from '../rig/schema.ts';
import { cellParams } from '../rig/substitute.ts';
import { summarize } from '../stats/index.ts';
import { getWorkload, isWorkload } from '../workloads/index.ts';
import { WorkloadError, type CellSampling, type Workload, type WorkloadResult } from '../contract/workload.ts';
import type { ProgressSink } from './progress.ts';
import { computeRatios } from './ratios.ts';
import { destroyAllSandboxes } from '../../sandbox-core/cleanup.ts';
import { TOOL_VERSION } from '../version.ts';

export interface RunOptions {
  rigPath: string;
  /** --set key=value, in order. */
  sets?: string[];
  /** --iterations N: overrides sampling.iterations (and max_iterations) of every cell. */
  iterations?: number;
  /** Where the artifact goes; default results/<rig>/. */
  outDir?: string;
  commandLine: string[];
  progress: ProgressSink;
  signal: AbortSignal;
  /** Repository root, for relative rig paths and git metadata. */
  root?: string;
}

export interface RunOutcome {
  artifact: Artifact;
  /** Path of the written artifact. */
  path: string;
}

export async function runRig(options: RunOptions): Promise<RunOutcome> {
  const root = options.root ?? process.cwd();
  const loaded = loadRig(options.rigPath, { workloads: isWorkload });
  const { rig, applied } = applyOverrides(loaded.rig, options.sets ?? []);
  const overrides: Record<string, unknown> = { ...applied };
  if (options.iterations !== undefined) overrides.iterations = options.iterations;
  const workload = getWorkload(rig.workload)!;
  const cells = expandMatrix(rig.matrix);
  const startedAt = new Date().toISOString();

  const host = await collectHost({ tools: toolsNamed(rig, workload, cells), probeKvm: true });
  const git = collectGit(root);
  const facts: HostFacts = {
    isRoot: process.getuid?.() === 0,
    hasBinary: (name) => which(name) !== null,
    kvmUsable: async () => {
      const kvm = await probeKvm();
      return { usable: kvm.status === 'usable', reason: `${kvm.status}: ${kvm.reason}` };
    },
  };

  const results: CellResult[] = [];
  const tools: Record<string, string | null> = { ...host.tools };
  let failure: string | undefined;
  // A reason shared by several cells (a backend missing) is printed in full once, then referred to.
  const reasonsSaid = new Map<string, string>();
  for (const [position, cell] of cells.entries()) {
    const index = position + 1;
    if (options.signal.aborted) {
      results.push(notRun(rig, cell, options, 'skipped', 'the run was interrupted before this cell'));
      continue;
    }
    if (failure) {
      results.push(notRun(rig, cell, options, 'skipped', 'the run failed before this cell'));
      continue;
    }
    try {
      const cellWorkload = workloadOf(rig, cell);
      if (!cellWorkload) {
        results.push(notRun(rig, cell, options, 'failed', `unknown workload ${JSON.stringify(cell.params.workload)} in this cell (rigor list shows the workloads)`));
        continue;
      }
      const result = await runCell(rig, cellWorkload, cell, { ...options, facts, index, total: cells.length });
      Object.assign(tools, result.tools);
      results.push(result.cell);
      options.progress.cellEnd(index, cells.length, cell.id, outcomeLine(result.cell, reasonsSaid));
    } catch (error) {
      // A fault of rigor itself, not of the measured thing: keep what was measured, say what broke.
      failure = `cell ${cell.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      results.push(notRun(rig, cell, options, 'failed', failure));
    }
  }
  options.progress.close();
  // Whatever a workload could not tear down (an interrupt mid-create): reap it before the artifact is written.
  const reclaimed = await destroyAllSandboxes();
  if (reclaimed.failed.length > 0) failure ??= `could not destroy sandboxes: ${reclaimed.failed.map((f) => `${f.id}: ${f.error}`).join('; ')}`;

  const status = failure ? 'failed' : options.signal.aborted ? 'interrupted' : 'complete';
  const artifact: Artifact = {
    schema: ARTIFACT_SCHEMA_ID,
    tool: { name: 'rigor', version: TOOL_VERSION },
    rig: { name: rig.name, path: relative(root, resolve(loaded.path)), sha256: loaded.sha256, definition: loaded.rig },
    run: {
      id: randomUUID(),
      command_line: options.commandLine,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      status,
      ...(failure ? { error: failure } : {}),
      overrides,
    },
    git,
    host: { ...finishHost(host), tools },
    environment: environmentOf(results),
    cells: results,
    gates: [],
    ratios: [],
  };
  artifact.gates = evaluateGates(rig.gates, rig.metrics, artifact);
  artifact.ratios = computeRatios(rig.ratios ?? [], results);
  const path = writeArtifact(artifact, options.outDir ?? resolve(root, 'results', rig.name));
  return { artifact, path };
}

interface CellRunOptions extends RunOptions {
  facts: HostFacts;
  index: number;
  total: number;
}

async function runCell(
  rig: Rig,
  workload: Workload,
  cell: Cell,
  options: CellRunOptions,
): Promise<{ cell: CellResult; tools?: Record<string, string | null> }> {
  const sampling = resolveSampling(rig, cell, options.iterations);
  const params = cellParams(rig, cell);
  const problems = workload.validateParams?.(params) ?? [];
  if (problems.length > 0) {
    return { cell: notRun(rig, cell, options, 'failed', `invalid params: ${problems.join('; ')}`) };
  }
  const requirements: Requirement[] = [...rig.requires, ...(workload.requirements?.(params) ?? [])];
  const missing = (await missingRequirement(requirements, params, options.facts)) ?? (await workload.skipReason?.(params)) ?? null;
  if (missing) return { cell: notRun(rig, cell, options, 'skipped', missing) };

  options.progress.cellStart(options.index, options.total, cell.id, sampling.iterations);
  const startedAt = new Date();
  const started = performance.now();
  let outcome: WorkloadResult;
  let status: CellResult['status'] = 'ok';
  let reason: string | undefined;
  try {
    outcome = await workload.run({
      rig,
      cellId: cell.id,
      params,
      sampling,
      metrics: Object.keys(rig.metrics),
      signal: options.signal,
      progress: (p) => options.progress.sample(p),
      log: (message) => options.progress.note(`  ${message}`),
    });
  } catch (error) {
    status = 'failed';
    reason = error instanceof Error ? error.message : String(error);
    outcome = error instanceof WorkloadError && error.partial ? error.partial : { samples: {} };
  }
  const cellResult: CellResult = {
    id: cell.id,
    params: cell.params,
    status,
    ...(reason ? { reason } : {}),
    concurrency: sampling.concurrency,
    warmup: sampling.warmup,
    started_at: startedAt.toISOString(),
    duration_s: round((performance.now() - started) / 1000, 3),
    ...(outcome.truncated ? { truncated: outcome.truncated } : {}),
    ...(outcome.facts ? { facts: outcome.facts } : {}),
    metrics: metricResults(rig, outcome.samples),
  };
  return { cell: cellResult, tools: outcome.tools };
}

/** A cell may name its own workload (a matrix `include` with `workload:`), so bare tools and ours share one run. */
function workloadOf(rig: Rig, cell: Cell): Workload | undefined {
  const name = cell.params.workload;
  return getWorkload(typeof name === 'string' ? name : rig.workload);
}

/** A cell that was not measured: skipped (requirement missing, interrupted) or failed before sampling. */
function notRun(rig: Rig, cell: Cell, options: RunOptions, status: 'skipped' | 'failed', reason: string): CellResult {
  const sampling = resolveSampling(rig, cell, options.iterations);
  return {
    id: cell.id,
    params: cell.params,
    status,
    reason,
    concurrency: sampling.concurrency,
    warmup: sampling.warmup,
    metrics: metricResults(rig, {}),
  };
}

function metricResults(rig: Rig, samples: Record<string, number[]>): Record<string, MetricResult> {
  const metrics: Record<string, MetricResult> = {};
  for (const [name, def] of Object.entries(rig.metrics)) {
    const values = samples[name] ?? [];
    metrics[name] = { ...def, samples: values, summary: summarize(values) };
  }
  return metrics;
}

/**
 * Rig sampling with the cell's own `concurrency`, `warmup` and `iterations`
 * (matrix axes or include keys: a slow backend can take fewer samples) and the
 * CLI's --iterations, which wins.
 */
function resolveSampling(rig: Rig, cell: Cell, iterations?: number): CellSampling {
  const own = (key: 'concurrency' | 'warmup' | 'iterations') => (Number.isInteger(cell.params[key]) ? (cell.params[key] as number) : undefined);
  const base = { ...rig.sampling, warmup: own('warmup') ?? rig.sampling.warmup };
  const concurrency = own('concurrency') ?? base.concurrency;
  const planned = iterations ?? own('iterations') ?? base.iterations;
  const maxIterations = iterations ?? base.max_iterations ?? base.iterations;
  return { ...base, concurrency, iterations: planned, max_iterations: Math.max(planned, maxIterations) };
}

/** Binaries the rig's requirements name (with matrix values substituted), for the host's tool versions. */
function toolsNamed(rig: Rig, workload: Workload, cells: Cell[]): string[] {
  const names = new Set<string>(['node']);
  for (const cell of cells) {
    let params: Record<string, unknown>;
    try {
      params = cellParams(rig, cell);
    } catch {
      continue; // reported when the cell runs
    }
    for (const requirement of [...rig.requires, ...((workloadOf(rig, cell) ?? workload).requirements?.(params) ?? [])]) {
      if (!requirement.binary) continue;
      const name = requirement.binary.replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? ''));
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Settings outside the matrix that can move numbers, and the guests the cells
 * booted (kernel, its config hash and patches, command line), each once.
 */
export function environmentOf(cells: readonly CellResult[]): Record<string, unknown> {
  const env = process.env;
  const guests = new Map<string, unknown>();
  for (const cell of cells) {
    const guest = cell.facts?.guest;
    if (guest && typeof guest === 'object') guests.set(JSON.stringify(guest), guest);
  }
  return {
    ci: Boolean(env.CI),
    node_options: env.NODE_OPTIONS ?? null,
    tz: env.TZ ?? null,
    lang: env.LANG ?? null,
    ...(guests.size > 0 ? { guests: [...guests.values()] } : {}),
  };
}

/** The progress line of a finished cell; a reason already said for an earlier cell is named by that cell. */
export function outcomeLine(cell: CellResult, reasonsSaid = new Map<string, string>()): string {
  if (cell.status !== 'ok') {
    const reason = cell.reason ?? 'no reason recorded';
    const first = reasonsSaid.get(reason);
    if (first !== undefined) return `${cell.status}: same reason as ${first}`;
    reasonsSaid.set(reason, cell.id);
    return `${cell.status}: ${reason}`;
  }
  const parts = Object.entries(cell.metrics)
    .filter(([, m]) => m.summary)
    .map(([name, m]) => `${name} median ${formatShort(m.summary!.median)} ${m.unit} (n=${m.summary!.n})`);
  return `${parts.join(', ')}${cell.truncated ? ` [truncated: ${cell.truncated}]` : ''}`;
}

function formatShort(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
