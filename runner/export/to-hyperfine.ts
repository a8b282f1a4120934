/**
 * An artifact in hyperfine's `--export-json` shape, so tools written for
 * hyperfine (its plot scripts, CI comment bots) read rigor's numbers. One
 * result per cell and time metric, named by the cell's command as a shell
 * would run it (so `rigor import hyperfine --rig` maps it back onto the
 * rig); CPU time is not a result of its own but each result's `user` and
 * `system` (hyperfine's shape holds their means only). Statistics computed
 * from the raw samples the way hyperfine computes them (mean, n−1 stddev,
 * middle-two median). Pure.
 */
import type { Artifact, CellResult } from '../artifact/schema.ts';
import { cellParams } from '../rig/substitute.ts';
import { median } from '../stats/index.ts';
import { IMPORTED_CPU_METRICS } from './from-hyperfine.ts';
import type { HyperfineExport, HyperfineFacts, HyperfineResult } from './hyperfine-format.ts';
import { shellQuote } from '../../base/shell-quote.ts';
import { CPU_METRICS, SECONDS_DIVISOR } from './onto-rig.ts';

/** Metrics that become each result's user / system rather than results: per run (a rig's), then hyperfine's means (an import's). */
const USER = ['user_ms', 'user_mean_ms'];
const SYSTEM = ['sys_ms', 'sys_mean_ms'];
const CPU = new Set([...CPU_METRICS, ...Object.keys(IMPORTED_CPU_METRICS)]);

export interface HyperfineConversion {
  export: HyperfineExport;
  /** Metrics left out, each with why (not a time unit). */
  skipped: string[];
  /** What the export could not fill, and what would (user or system null: no CPU time measured). */
  notes: string[];
}

export function toHyperfine(artifact: Artifact): HyperfineConversion {
  const skipped: string[] = [];
  const timeMetrics = Object.entries(artifact.rig.definition.metrics).filter(([name, def]) => {
    if (CPU.has(name)) return false;
    if (SECONDS_DIVISOR[def.unit] !== undefined) return true;
    skipped.push(`metric ${name}: unit ${def.unit} is not a time (hyperfine exports hold ${Object.keys(SECONDS_DIVISOR).join(', ')} as seconds)`);
    return false;
  });
  // A metric name goes into the command only when there is more than one to tell apart.
  const withMetric = timeMetrics.length > 1;
  const results: HyperfineResult[] = [];
  const unfilled = new Set<'user' | 'system'>();
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
      if (cpu.user === null) unfilled.add('user');
      if (cpu.system === null) unfilled.add('system');
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
        ...(cpu.memory_usage_byte ? { memory_usage_byte: cpu.memory_usage_byte } : {}),
        exit_codes: cpu.exit_codes,
        ...parametersOf(cell),
      });
    }
  }
  const notes = [...unfilled].map(
    (field) =>
      `${field}: null where a cell has no ${field === 'user' ? 'user_ms' : 'sys_ms'} samples (declare ${field === 'user' ? 'user_ms' : 'sys_ms'} in the rig: the command workload records the child's ${field} CPU time per run)`,
  );
  return { export: { results }, skipped, notes };
}

/**
 * The command the cell ran, as a shell would: a hyperfine import's own, else
 * the command workload's `run` (an argv quoted into one line); else "<rig>/<cell id>".
 */
function commandLabel(artifact: Artifact, cell: CellResult): string {
  const imported = cell.facts?.hyperfine as HyperfineFacts | undefined;
  if (imported?.command) return imported.command;
  if (artifact.run.imported_from !== undefined && typeof cell.params.command === 'string') return cell.params.command;
  const definition = artifact.rig.definition;
  const workload = cell.params.workload ?? definition.workload;
  if (workload === 'command') {
    try {
      const { run } = cellParams(definition, { id: cell.id, params: cell.params });
      if (typeof run === 'string') return run;
      if (Array.isArray(run) && run.length > 0 && run.every((word) => typeof word === 'string')) return shellQuote(run);
    } catch {
      // a run whose placeholders no longer resolve is named by its cell
    }
  }
  return `${artifact.rig.name}/${cell.id}`;
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
 * else the means of the cell's user_ms / sys_ms samples, and for the command
 * workload its expected exit code for every run (any other exit fails the
 * cell); null where rigor did not observe the thing.
 */
function cpuAndExits(artifact: Artifact, cell: CellResult, runs: number): Pick<HyperfineResult, 'user' | 'system' | 'exit_codes' | 'memory_usage_byte'> {
  const imported = cell.facts?.hyperfine as HyperfineFacts | undefined;
  if (imported && imported.exit_codes.length === runs) {
    return {
      user: imported.user,
      system: imported.system,
      exit_codes: imported.exit_codes,
      ...(imported.memory_usage_byte?.length === runs ? { memory_usage_byte: imported.memory_usage_byte } : {}),
    };
  }
  const meanSeconds = (names: string[]): number | null => {
    for (const name of names) {
      const metric = cell.metrics[name];
      const divisor = metric ? SECONDS_DIVISOR[metric.unit] : undefined;
      if (!metric || divisor === undefined || metric.samples.length === 0) continue;
      return metric.samples.reduce((sum, s) => sum + s, 0) / metric.samples.length / divisor;
    }
    return null;
  };
  const definition = artifact.rig.definition;
  const workload = cell.params.workload ?? definition.workload;
  const expected = cell.params.expect_exit ?? definition.params.expect_exit ?? 0;
  const exit = workload === 'command' && typeof expected === 'number' ? expected : null;
  return { user: meanSeconds(USER), system: meanSeconds(SYSTEM), exit_codes: Array.from({ length: runs }, () => exit) };
}

/** The cell's scalar parameters other than the command, as hyperfine's string-valued `parameters`; absent when there are none. */
function parametersOf(cell: CellResult): Pick<HyperfineResult, 'parameters'> {
  const imported = (cell.facts?.hyperfine as HyperfineFacts | undefined)?.parameters;
  const entries = Object.entries(cell.params)
    .filter(([key, value]) => key !== 'command' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => [key, String(value)]);
  const parameters = { ...Object.fromEntries(entries), ...imported };
  return Object.keys(parameters).length > 0 ? { parameters } : {};
}
