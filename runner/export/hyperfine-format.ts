/**
 * hyperfine's `--export-json` shape (as hyperfine 1.15 writes it), times in
 * seconds. `stddev` is null for a single run; an exit code is null for a run
 * killed by a signal; `parameters` is there only with --parameter-scan/-list.
 */
export interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number | null;
  median: number;
  /** Mean user CPU time of a run, seconds. */
  user: number | null;
  /** Mean system CPU time of a run, seconds. */
  system: number | null;
  min: number;
  max: number;
  times: number[];
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
  user: number | null;
  system: number | null;
  exit_codes: (number | null)[];
}
