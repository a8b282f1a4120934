/**
 * What a sandbox may take from its host when its spec says nothing: the
 * defaults every backend enforces (bwrap and runc with cgroups and a
 * size-limited workspace, qemu by the guest's size), written once here.
 */
import type { SandboxSpec } from '../backends/types.ts';

export const DEFAULT_LIMITS = {
  /** Processes and threads at once: enough for any build tool, small enough to stop a fork bomb. */
  pids: 1024,
  /** Memory, page cache and tmpfs included. */
  memoryMiB: 2048,
  /** The workspace filesystem (tmpfs: counted in memoryMiB too). */
  workspaceMiB: 1024,
} as const;

export interface Limits {
  pids: number;
  memoryMiB: number;
  workspaceMiB: number;
}

function positiveInteger(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`sandbox spec ${field}: expected a whole number >= 1, found ${JSON.stringify(value)}`);
  return value;
}

/** The spec's limits with the defaults filled in; throws naming the field when one is not a whole number >= 1. */
export function limitsOf(spec: SandboxSpec): Limits {
  return {
    pids: positiveInteger(spec.pidsLimit, 'pidsLimit', DEFAULT_LIMITS.pids),
    memoryMiB: positiveInteger(spec.memoryMiB, 'memoryMiB', DEFAULT_LIMITS.memoryMiB),
    workspaceMiB: positiveInteger(spec.workspaceMiB, 'workspaceMiB', DEFAULT_LIMITS.workspaceMiB),
  };
}
