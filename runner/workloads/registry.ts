/**
 * The workloads a rig's `workload:` field can name. Built-ins are registered
 * by runner/workloads/index.ts; sandbox-core registers its own the same way.
 */
import type { Workload } from '../contract/workload.ts';

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

/** The workload times batches of calls (a micro-benchmark), so each of its samples carries a call count. */
export function isBatchedWorkload(name: string): boolean {
  return workloads.get(name)?.batched === true;
}
