/**
 * The workloads a rig's `workload:` field can name. Built-ins are registered
 * by runner/workloads/index.ts; sandbox-core registers its own the same way.
 */
import type { FillQuery, Workload } from '../contract/workload.ts';
import type { LoadOptions } from '../rig/load.ts';
import type { MetricDef } from '../rig/schema.ts';

const workloads = new Map<string, Workload>();

/** Add a workload; a second one with the same name is a programming error and throws. */
export function registerWorkload(workload: Workload): void {
  if (workloads.has(workload.name)) throw new Error(`workload ${workload.name} is already registered`);
  workloads.set(workload.name, workload);
}

export function getWorkload(name: string): Workload | undefined {
  return workloads.get(name);
}

/** Every registered workload, by name. */
export function listWorkloads(): Workload[] {
  return [...workloads.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function isWorkload(name: string): boolean {
  return workloads.has(name);
}

/**
 * What `metric` would have to be for the workload `name` to fill it, or null
 * when it can (or there is no such workload): the workload's own cannotFill,
 * else it times, so a counted metric is one it cannot fill.
 */
export function cannotFill(name: string, metric: MetricDef, query: FillQuery): string | null {
  const workload = workloads.get(name);
  if (!workload) return null;
  if (workload.cannotFill) return workload.cannotFill(metric, query);
  return metric.kind === 'counted' ? `a timed metric (the ${name} workload times; a counted metric needs a counting workload, e.g. callgrind)` : null;
}

/** The workload checks of a rig file when it is loaded: the workload exists, its metrics are ones it can fill, and each cell's params are what it declares. */
export const workloadChecks: LoadOptions = { workloads: isWorkload, cannotFill, params: getWorkload };

/** The workload times batches of calls (a micro-benchmark), so each of its samples carries a call count. */
export function isBatchedWorkload(name: string): boolean {
  return workloads.get(name)?.batched === true;
}
