/**
 * The plan of a run, computed once and without running anything: every cell
 * with its workload, substituted params, resolved sampling and requirements,
 * and the tools whose versions the host block records. The executor and the
 * assembler only read it.
 */
import type { Requirement, Rig } from '../rig/schema.ts';
import type { Cell } from '../rig/matrix.ts';
import { expandMatrix } from '../rig/matrix.ts';
import { cellParams, substitute } from '../rig/substitute.ts';
import { formatParamProblem, keyRoles, paramProblems } from '../rig/param-problems.ts';
import type { CellSampling, Workload } from '../contract/workload.ts';

export interface PlannedCell {
  /** 1-based position in the run. */
  index: number;
  cell: Cell;
  /** The cell's own workload (a matrix `include` may name one) or the rig's; undefined when no such workload exists. */
  workload: Workload | undefined;
  workloadName: string;
  sampling: CellSampling;
  /** The cell's params with `{param}` substituted; undefined when substitution failed (see paramsError). */
  params: Record<string, unknown> | undefined;
  /** Why substitution failed: a fault that fails the run, as when it happened while running. */
  paramsError?: Error;
  /** What is wrong with the params by the workload's schema and checks ("params.x: expected …"). */
  problems: string[];
  /** The rig's requirements and the workload's own for these params. */
  requirements: Requirement[];
}

export interface RunPlan {
  rig: Rig;
  cells: PlannedCell[];
  /** The run's scratch directory, `{scratch}` in params; unset when the plan was made without one. */
  scratch?: string;
  /** Binaries the requirements name (node first among them), for the host's tool versions. */
  tools: string[];
}

/**
 * Rig sampling with the cell's own `concurrency`, `warmup` and `iterations`
 * (matrix axes or include keys: a slow backend can take fewer samples) and the
 * CLI's --iterations, which wins.
 */
export function resolveSampling(rig: Rig, cell: Cell, iterations?: number): CellSampling {
  const own = (key: 'concurrency' | 'warmup' | 'iterations') => (Number.isInteger(cell.params[key]) ? (cell.params[key] as number) : undefined);
  const base = { ...rig.sampling, warmup: own('warmup') ?? rig.sampling.warmup };
  const concurrency = own('concurrency') ?? base.concurrency;
  const planned = iterations ?? own('iterations') ?? base.iterations;
  const maxIterations = iterations ?? base.max_iterations ?? base.iterations;
  return { ...base, concurrency, iterations: planned, max_iterations: Math.max(planned, maxIterations) };
}

export function planRun(rig: Rig, options: { iterations?: number; workloads: (name: string) => Workload | undefined; scratch?: string }): RunPlan {
  const builtins = options.scratch !== undefined ? { scratch: options.scratch } : {};
  const tools = new Set<string>(['node']);
  const expanded = expandMatrix(rig.matrix);
  const cellWorkloadName = (cell: Cell) => (typeof cell.params.workload === 'string' ? cell.params.workload : rig.workload);
  // Every workload the rig names, not only those of the cells left after --set pinned an axis: a rig-wide param
  // the rig's own workload takes stays the rig's even in a run of just its command cells.
  const included = (rig.matrix.include ?? []).flatMap((entry) => (typeof entry.workload === 'string' ? [entry.workload] : []));
  const named = new Set([rig.workload, ...included, ...expanded.map(cellWorkloadName)]);
  const schemas = [...named].flatMap((name) => options.workloads(name)?.paramsSchema ?? []);
  const roles = keyRoles(rig, schemas);
  const cells = expanded.map((cell, position): PlannedCell => {
    const workloadName = cellWorkloadName(cell);
    const workload = options.workloads(workloadName);
    const sampling = resolveSampling(rig, cell, options.iterations);
    let params: Record<string, unknown> | undefined;
    let paramsError: Error | undefined;
    try {
      params = cellParams(rig, cell, builtins);
    } catch (error) {
      paramsError = error instanceof Error ? error : new Error(String(error));
    }
    const problems = params && workload ? paramProblems(workload, params, { workload: workloadName, roleOf: roles(cell.params) }).map(formatParamProblem) : [];
    const requirements = params && workload ? [...rig.requires, ...(workload.requirements?.(params) ?? [])] : [...rig.requires];
    for (const requirement of requirements) {
      if (!requirement.binary || !params) continue;
      const name = String(substitute(requirement.binary, params));
      if (name) tools.add(name);
    }
    return { index: position + 1, cell, workload, workloadName, sampling, params, ...(paramsError ? { paramsError } : {}), problems, requirements };
  });
  return { rig, cells, tools: [...tools].sort(), ...(options.scratch !== undefined ? { scratch: options.scratch } : {}) };
}

/** Binaries that start guests under KVM where it is usable. */
const KVM_BINARIES = /^(qemu-system-.*|firecracker)$/;

/**
 * Whether a cell of the plan may start a guest under KVM: its workload says
 * so (a qemu or firecracker sandbox), or a requirement asks for KVM or a
 * qemu/firecracker binary. Only then does the run probe KVM and warn about
 * it: a gzip rig has no use for a line about TCG.
 */
export function usesKvm(plan: RunPlan): boolean {
  const startsGuests = (binary: string | undefined, params: Record<string, unknown> | undefined) =>
    binary !== undefined && KVM_BINARIES.test(String(params ? substitute(binary, params) : binary).split('/').at(-1)!);
  return plan.cells.some(
    ({ workload, params, requirements }) =>
      (params !== undefined && workload?.usesKvm?.(params) === true) ||
      requirements.some((requirement) => requirement.kvm === true || startsGuests(requirement.binary, params)),
  );
}
