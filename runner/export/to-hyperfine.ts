/**
 * An artifact in hyperfine's `--export-json` shape, so tools written for
 * hyperfine (its plot scripts, CI comment bots) read rigor's numbers. One
 * result per cell and time metric; statistics computed from the raw samples
 * the way hyperfine computes them (mean, n−1 stddev, middle-two median). Pure.
 */
import type { Artifact, CellResult } from '../artifact/schema.ts';
import { median } from '../stats/index.ts';
import type { HyperfineExport, HyperfineFacts, HyperfineResult } from './hyperfine-format.ts';

/** Divisor from a time unit to seconds: hyperfine's times are seconds. Division, not ×0.001, so ms → s → ms round-trips. */
const SECONDS_DIVISOR: Readonly<Record<string, number>> = { s: 1, ms: 1e3, us: 1e6, 'µs': 1e6, ns: 1e9 };

export interface HyperfineConversion {
  export: HyperfineExport;
  /** Metrics left out, each with why (not a time unit). */
  skipped: string[];
}

export function toHyperfine(artifact: Artifact): HyperfineConversion {
  const skipped: string[] = [];
  const timeMetrics = Object.entries(artifact.rig.definition.metrics).filter(([name, def]) => {
    if (SECONDS_DIVISOR[def.unit] !== undefined) return true;
    skipped.push(`metric ${name}: unit ${def.unit} is not a time (hyperfine exports hold ${Object.keys(SECONDS_DIVISOR).join(', ')} as seconds)`);
    return false;
  });
  // A metric name goes into the command only when there is more than one to tell apart.
  const withMetric = timeMetrics.length > 1;
  const results: HyperfineResult[] = [];
  for (const cell of artifact.cells) {
    if (cell.status !== 'ok') continue;
    for (const [name] of timeMetrics) {
      const metric = cell.metrics[name];
      if (!metric || metric.samples.length === 0) continue;
      const divisor = SECONDS_DIVISOR[metric.unit];
      if (divisor === undefined) continue;
      const times = metric.samples.map((sample) => sample / divisor);
      const label = commandLabel(artifact, cell);
      const stats = timeStatistics(times);
      const cpu = cpuAndExits(artifact, cell, times.length);
      // hyperfine's field order, so a diff against its own export reads line by line
      results.push({
        command: withMetric ? `${label} [${name}]` : label,
        mean: stats.mean,
        stddev: stats.stddev,
        median: stats.median,
        user: cpu.user,
        system: cpu.system,
        min: stats.min,
        max: stats.max,
        times,
        exit_codes: cpu.exit_codes,
        ...parametersOf(cell),
      });
    }
  }
  return { export: { results }, skipped };
}

/** The command a hyperfine result imported into this cell had, else "<rig>/<cell id>". */
function commandLabel(artifact: Artifact, cell: CellResult): string {
  return typeof cell.params.command === 'string' ? cell.params.command : `${artifact.rig.name}/${cell.id}`;
}

function timeStatistics(times: number[]): Pick<HyperfineResult, 'mean' | 'stddev' | 'median' | 'min' | 'max'> {
  const n = times.length;
  const mean = times.reduce((sum, t) => sum + t, 0) / n;
  const stddev = n < 2 ? null : Math.sqrt(times.reduce((sum, t) => sum + (t - mean) ** 2, 0) / (n - 1));
  // a loop, not Math.min(...times): a spread of a few hundred thousand samples overflows the stack
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return { mean, stddev, median: median(times), min, max };
}

/**
 * user/system/exit_codes: what a hyperfine import kept (facts.hyperfine);
 * else the means of the cell's user_ms / sys_ms metrics, and for the command
 * workload its expected exit code for every run (any other exit fails the
 * cell); null where rigor did not observe the thing.
 */
function cpuAndExits(artifact: Artifact, cell: CellResult, runs: number): Pick<HyperfineResult, 'user' | 'system' | 'exit_codes'> {
  const imported = cell.facts?.hyperfine as HyperfineFacts | undefined;
  if (imported && imported.exit_codes.length === runs) return { user: imported.user, system: imported.system, exit_codes: imported.exit_codes };
  const meanSeconds = (name: string): number | null => {
    const metric = cell.metrics[name];
    const divisor = metric ? SECONDS_DIVISOR[metric.unit] : undefined;
    if (!metric || divisor === undefined || metric.samples.length === 0) return null;
    return metric.samples.reduce((sum, s) => sum + s, 0) / metric.samples.length / divisor;
  };
  const definition = artifact.rig.definition;
  const workload = cell.params.workload ?? definition.workload;
  const expected = cell.params.expect_exit ?? definition.params.expect_exit ?? 0;
  const exit = workload === 'command' && typeof expected === 'number' ? expected : null;
  return { user: meanSeconds('user_ms'), system: meanSeconds('sys_ms'), exit_codes: Array.from({ length: runs }, () => exit) };
}

/** The cell's scalar parameters other than the command, as hyperfine's string-valued `parameters`; absent when there are none. */
function parametersOf(cell: CellResult): Pick<HyperfineResult, 'parameters'> {
  const entries = Object.entries(cell.params)
    .filter(([key, value]) => key !== 'command' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => [key, String(value)]);
  return entries.length > 0 ? { parameters: Object.fromEntries(entries) } : {};
}
