/**
 * What the driver of `rigor ab` and a side's worker say to each other: one
 * JSON message per line over the IPC channel Node's fork() opens (fd 3). The
 * worker runs in its side's tree, with that tree's rig, workloads, sandbox
 * core and native builds; the driver only schedules and records.
 */
import type { WorkloadResult } from '../contract/workload.ts';

/** Driver → worker. */
export type Request =
  | { type: 'plan'; rig: string; sets: string[]; iterations?: number }
  | { type: 'take'; id: number; cell: string; count: number; warmup: number }
  /** Stop the take in flight (Ctrl-C reached the driver); it answers with what it measured. */
  | { type: 'abort' }
  | { type: 'close' };

export interface PlannedSideCell {
  id: string;
  params: Record<string, unknown>;
  status: 'ready' | 'skipped' | 'failed';
  reason?: string;
  iterations: number;
  warmup: number;
  concurrency: number;
}

/** Worker → driver. */
export type Reply =
  | {
      type: 'planned';
      /** The rig as this side loaded it (`definition`) and as it runs (overrides applied). */
      rig: { name: string; path: string; sha256: string; definition: unknown; effective: unknown };
      cells: PlannedSideCell[];
      tools: string[];
      /** A cell may start a guest under KVM (runner/run/plan.ts usesKvm; true for a tree older than it). */
      usesKvm: boolean;
    }
  | { type: 'taken'; id: number; result: WorkloadResult }
  /** The measured thing failed (a WorkloadError on the side): the cell stops, partial samples kept. */
  | { type: 'take-failed'; id: number; message: string; partial?: WorkloadResult }
  /** rigor itself failed on this side (a missing module, a rig that does not load, a crash). */
  | { type: 'error'; id?: number; message: string }
  /** `cleanup_failure`: how the side's run-level cleanup failed, when it did. */
  | { type: 'closed'; leftovers: string[]; cleanup_failure?: string };

/**
 * Modules the worker loads from its side's tree, relative to the tree. A
 * commit without them is older than `rigor ab` can measure.
 */
export const SIDE_MODULES = {
  load: 'runner/rig/load.ts',
  overrides: 'runner/rig/overrides.ts',
  plan: 'runner/run/plan.ts',
  workloads: 'runner/workloads/index.ts',
  requirements: 'runner/rig/requirements.ts',
  cleanup: 'sandbox-core/cleanup.ts',
  which: 'base/which.ts',
  kvm: 'sandbox-core/kvm/probe.ts',
} as const;

/**
 * Modules the worker loads when its tree has them: a commit older than them
 * measures without (its rig cannot declare what they do). `steps`: the rig's
 * run-level setup and cleanup and the run's scratch directory.
 */
export const OPTIONAL_SIDE_MODULES = {
  steps: 'runner/run/run-steps.ts',
} as const;
