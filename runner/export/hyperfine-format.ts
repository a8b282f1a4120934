/**
 * hyperfine's `--export-json` shape (as hyperfine 1.15 writes it), times in
 * seconds. `stddev` is null for a single run; an exit code is null for a run
 * killed by a signal; `parameters` is there only with --parameter-scan/-list;
 * `memory_usage_byte` (each run's peak memory) only from newer hyperfines.
 * `user` and `system` are means over the runs: hyperfine keeps no per-run CPU times.
 */
export interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number | null;
  median: number;
  /** Mean user CPU time of a run, seconds; rigor writes null where it has none. */
  user: number | null;
  /** Mean system CPU time of a run, seconds; rigor writes null where it has none. */
  system: number | null;
  min: number;
  max: number;
  times: number[];
  memory_usage_byte?: number[];
  exit_codes: (number | null)[];
  parameters?: Record<string, string>;
}

export interface HyperfineExport {
  results: HyperfineResult[];
}

/**
 * What rigor keeps of a hyperfine result besides its times, in the cell's
 * facts (`facts.hyperfine`), so an export gives back what was imported.
 */
export interface HyperfineFacts {
  /** The command as hyperfine ran it; an import mapped onto a rig's cells (whose params do not hold it) only. */
  command?: string;
  user: number | null;
  system: number | null;
  exit_codes: (number | null)[];
  /** hyperfine's parameters of a mapped import (an unmapped one has them in the cell's params). */
  parameters?: Record<string, string>;
  memory_usage_byte?: number[];
}

/** The fields of a result the import reads; hyperfine's mean, median, min, max and stddev are recomputed from times. */
export interface HyperfineInput {
  command: string;
  times: number[];
  user: number | null;
  system: number | null;
  exit_codes: (number | null)[];
  parameters: Record<string, string>;
  /** Each run's peak memory, where hyperfine wrote it (newer versions). */
  memory_usage_byte?: number[];
}
