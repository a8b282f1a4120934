/**
 * What a workload is: the thing a rig times (or counts). The runner owns matrix,
 * requirements, statistics and artifacts; a workload only produces raw samples.
 */
import type { z } from 'zod';
import type { MetricDef, Requirement, Rig, Sampling } from '../rig/schema.ts';

/** Sampling settings resolved for one cell (rig defaults, cell `concurrency`, CLI --iterations). */
export interface CellSampling extends Sampling {
  /** Always set after resolution: max_iterations defaults to iterations. */
  max_iterations: number;
}

/** Progress of one cell, reported by the workload as it samples. */
export interface SampleProgress {
  /** 'warmup' runs are discarded; 'sample' runs are kept. */
  phase: 'warmup' | 'sample';
  done: number;
  /** Planned total for this phase (may grow when min_seconds extends sampling). */
  total: number;
}

export interface CellContext {
  rig: Rig;
  /** Stable id of the cell, e.g. "program=node,cache=drop". */
  cellId: string;
  /** rig.params overlaid with the cell's matrix values; `{param}` already substituted in strings. */
  params: Record<string, unknown>;
  sampling: CellSampling;
  /** Metric names the rig declares; a workload must return samples for each (or none). */
  metrics: string[];
  /** Aborted on SIGINT/SIGTERM or when the cell's time budget runs out; stop promptly, keep what was measured. */
  signal: AbortSignal;
  progress(p: SampleProgress): void;
  /** A one-line note shown to the user (not stored). */
  log(message: string): void;
  /** The run's scratch directory (`{scratch}` in params, RIGOR_SCRATCH for commands), when the run has one. */
  scratch?: string;
}

export interface WorkloadResult {
  /** Raw samples per metric name, in the order taken. */
  samples: Record<string, number[]>;
  /**
   * For a workload that times calls in batches (micro-benchmarks): per metric,
   * the calls in each batch, parallel to its samples, which are then each
   * batch's time divided by its calls.
   */
  batch_iterations?: Record<string, number[]>;
  /** Observations beside the samples (e.g. cache drops attempted and done, derived ratios). */
  facts?: Record<string, unknown>;
  /** Versions of the external tools this cell used, e.g. { hyperfine: "1.15.0" }. */
  tools?: Record<string, string | null>;
  /** Set when sampling stopped early (time budget, interrupt), saying why. */
  truncated?: string;
}

/** A failure of the measured thing itself (non-zero exit, timeout): the cell is `failed` with this message. */
export class WorkloadError extends Error {
  override name = 'WorkloadError';
  constructor(
    message: string,
    /** Whatever was measured before the failure. */
    readonly partial?: WorkloadResult,
  ) {
    super(message);
  }
}

/** What a workload is told about one metric of a rig it would fill (Workload.cannotFill). */
export interface FillQuery {
  /** The metric's name. */
  name: string;
  /** Every metric the rig declares, in order. */
  metrics: Record<string, MetricDef>;
  /**
   * The params, as written, of each kind of cell this workload runs: the
   * rig's, and each matrix include entry's over them.
   */
  params: Record<string, unknown>[];
}

export interface Workload {
  /** Name used in a rig's `workload:` field. */
  name: string;
  /** One line for `rigor list`. */
  description: string;
  /**
   * The cell's params (rig params overlaid with its matrix values, `{param}`
   * substituted) as a strict zod object, with the "expected" wording in its
   * messages where zod's own would be vague (`z.int({ error: 'a whole number
   * of MiB (>= 1)' })`). Checked when a rig is loaded (rigor validate, run,
   * list), each problem at the line:col where the key or value is written,
   * and again for each cell before it runs. A key it does not name is an
   * unknown parameter, except keys that only name or fill cells: matrix axes,
   * keys a `{placeholder}` reads, the runner's own (workload, concurrency,
   * warmup, iterations), and a rig-wide param another workload of the rig takes.
   */
  paramsSchema?: z.ZodObject;
  /**
   * Checks across params that a schema cannot express, run when the schema
   * accepts them (also at load); return a list of problems in the form
   * "params.kernel: expected …, found …".
   */
  validateParams?(params: Record<string, unknown>): string[];
  /**
   * What a metric this workload fills must be, when `metric` is not that
   * ("a counted metric in instructions"); null when it can fill it. A rig
   * declaring a metric none of its workloads can fill is refused when it is
   * loaded. Without it: any timed metric, no counted one.
   */
  cannotFill?(metric: MetricDef, query: FillQuery): string | null;
  /** Requirements implied by the params (e.g. argv[0] must be on PATH). */
  requirements?(params: Record<string, unknown>): Requirement[];
  /**
   * Why this host cannot run the cell, found by asking the thing itself (a
   * sandbox backend's available()); null when it can. The cell is `skipped`
   * with this reason.
   */
  skipReason?(params: Record<string, unknown>): Promise<string | null>;
  /**
   * The cell may start a guest under KVM (a qemu or firecracker sandbox): the
   * run then probes KVM and warns when it is not usable. A requirement
   * `kvm: true` or a qemu/firecracker binary says the same without it.
   */
  usesKvm?(params: Record<string, unknown>): boolean;
  run(ctx: CellContext): Promise<WorkloadResult>;
  /** Its samples are batches (WorkloadResult.batch_iterations): a sample costs an artifact more, and more batches are never taken. */
  batched?: boolean;
}
