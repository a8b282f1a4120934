/**
 * A hyperfine `--export-json` file as a rigor artifact: one cell per result,
 * its times (per run) as wall time in ms, its user and system CPU time (a
 * mean per command: hyperfine keeps no per-run CPU times) as one value each.
 * Unmapped, a cell's params are its command and scan parameters; mapped onto
 * a rig (onto-rig.ts), the cell is the rig's cell that runs the command.
 * Checking is strict and names the JSON path; building is pure.
 */
import { ARTIFACT_SCHEMA_ID, type Artifact, type CellResult, type Host } from '../artifact/schema.ts';
import { InputError } from '../../base/errors.ts';
import { hasUnprintable, printable, quoted } from '../../base/printable.ts';
import type { GitState } from '../host/git.ts';
import { RigFile, type MetricDef, type Rig } from '../rig/schema.ts';
import { summarize } from '../stats/index.ts';
import { TOOL_VERSION } from '../version.ts';
import type { HyperfineFacts, HyperfineInput } from './hyperfine-format.ts';
import { SECONDS_DIVISOR, type MappedResult } from './onto-rig.ts';

export const DEFAULT_IMPORT_RIG = 'imported-hyperfine';

const IMPORTED_WALL_MS: MetricDef = {
  unit: 'ms',
  better: 'lower',
  clock: 'hyperfine started the command -> hyperfine saw it exit (its own timer around each run, imported)',
};

/** hyperfine's means of the CPU times, one value per cell; not user_ms/sys_ms, which hold a value per run. */
export const IMPORTED_CPU_METRICS = {
  user_mean_ms: {
    unit: 'ms',
    better: 'lower',
    clock: "hyperfine started the command -> it exited: user CPU time, hyperfine's mean over the command's runs (it keeps no per-run CPU times: one value per cell, imported)",
  },
  sys_mean_ms: {
    unit: 'ms',
    better: 'lower',
    clock: "hyperfine started the command -> it exited: system CPU time, hyperfine's mean over the command's runs (it keeps no per-run CPU times: one value per cell, imported)",
  },
} as const satisfies Record<string, MetricDef>;

/** A name or value in an imported cell's id: as is, or quoted (JSON) when it holds `,`, `=`, `"` or a control character. */
function idPart(text: string): string {
  return /[,="]/.test(text) || hasUnprintable(text) ? quoted(text) : text;
}

/**
 * `command=sleep 0.1,t=0.1`: the id of an unmapped import's cell. Unlike a rig
 * cell's id (matrix.ts cellId), a part holding `,` `=` or `"` is quoted, so two
 * results get one id only when their commands and parameters are the same
 * (`a,b=c` and `a` with b=c were both `command=a,b=c`), and no control
 * character of a command reaches a terminal that prints the id.
 */
export function importedCellId(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([key, value]) => `${idPart(key)}=${idPart(value)}`)
    .join(',');
}

/** A time past this (about 32 years) is no measurement: in ns (a rig's unit) 1e308 seconds is Infinity, which summaries refuse. */
const MAX_SECONDS = 1e9;
const isSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_SECONDS;

/** "a string", "an array", ...: the kind of a JSON value, for "expected X, found Y". */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value === 'number' ? `the number ${value}` : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Check the parsed JSON of `file` as a hyperfine export; the first problem is an InputError naming file, path, expected and found. */
export function parseHyperfineExport(data: unknown, file: string): HyperfineInput[] {
  const fail = (path: string, expected: string, found: unknown): never => {
    throw new InputError(`${file}: ${path}: expected ${expected}, found ${kindOf(found)} (is this a hyperfine --export-json file?)`);
  };
  if (!isRecord(data)) return fail('(top level)', 'an object with "results"', data);
  if (!Array.isArray(data.results)) return fail('results', 'an array of results', data.results);
  if (data.results.length === 0) throw new InputError(`${file}: results: expected at least one result, found an empty array`);
  const seen = new Map<string, number>();
  return data.results.map((result: unknown, i: number): HyperfineInput => {
    const at = `results[${i}]`;
    if (!isRecord(result)) return fail(at, 'an object', result);
    if (typeof result.command !== 'string' || result.command.length === 0) return fail(`${at}.command`, 'a non-empty string', result.command);
    const { times } = result;
    if (!Array.isArray(times)) return fail(`${at}.times`, 'an array of numbers', times);
    if (times.length === 0) throw new InputError(`${file}: ${at}.times: expected at least one time, found an empty array`);
    times.forEach((t: unknown, k: number) => {
      if (!isSeconds(t)) fail(`${at}.times[${k}]`, 'a number of seconds from 0 to 1e9', t);
    });
    const cpu = (key: 'user' | 'system'): number | null => {
      const value = result[key];
      if (value === undefined || value === null) return null;
      return isSeconds(value) ? value : fail(`${at}.${key}`, 'a number of seconds from 0 to 1e9, or null', value);
    };
    const memory = result.memory_usage_byte;
    if (memory !== undefined && (!Array.isArray(memory) || memory.length !== times.length || memory.some((m) => !Number.isInteger(m) || m < 0))) {
      return fail(`${at}.memory_usage_byte`, `an array of ${times.length} byte counts (one per time)`, memory);
    }
    const exits = result.exit_codes;
    if (exits !== undefined && (!Array.isArray(exits) || exits.some((c) => c !== null && !Number.isInteger(c)))) {
      return fail(`${at}.exit_codes`, 'an array of integers (or null for a run killed by a signal)', Array.isArray(exits) ? exits.find((c) => c !== null && !Number.isInteger(c)) : exits);
    }
    if (Array.isArray(exits) && exits.length !== times.length) {
      throw new InputError(`${file}: ${at}.exit_codes: expected one per time (${times.length}), found ${exits.length}`);
    }
    const parameters = result.parameters ?? {};
    if (!isRecord(parameters)) return fail(`${at}.parameters`, 'an object of parameter names to values', parameters);
    for (const [name, value] of Object.entries(parameters)) {
      if (typeof value !== 'string') fail(`${at}.parameters.${printable(name)}`, 'a string', value);
      if (name === 'command') throw new InputError(`${file}: ${at}.parameters.command: a parameter named "command" would hide the command; rename it`);
    }
    const id = importedCellId({ command: result.command, ...(parameters as Record<string, string>) });
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      throw new InputError(`${file}: ${at}: the same command and parameters as results[${earlier}] (${id}); rigor cells need distinct ones`);
    }
    seen.set(id, i);
    return {
      command: result.command,
      times: times as number[],
      user: cpu('user'),
      system: cpu('system'),
      exit_codes: (exits as (number | null)[] | undefined) ?? times.map(() => null),
      parameters: parameters as Record<string, string>,
      ...(memory !== undefined ? { memory_usage_byte: memory as number[] } : {}),
    };
  });
}

export interface ImportContext {
  /** The hyperfine file, as given on the command line: becomes run.imported_from (and rig.path of an unmapped import). */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** The name an unmapped import files under. */
  rig: string;
  /** When the measurements were made, as well as can be told (the file's modification time). */
  measuredAt: string;
  runId: string;
  commandLine: string[];
  /** This machine: hyperfine's export does not say where it ran. */
  host: Host;
  git: GitState;
}

/** A rig the results are mapped onto (onto-rig.ts): the rig as loaded, and each result with its cell. */
export interface ImportTarget {
  rig: Rig;
  path: string;
  sha256: string;
  /** --set given with the import, as run.overrides records them. */
  overrides: Record<string, unknown>;
  /** The rig's metric that takes hyperfine's times (onto-rig.ts wallMetric). */
  wall: string;
  mapped: MappedResult[];
}

/** user_mean_ms / sys_mean_ms of one result, where hyperfine gave the mean. */
function cpuMetrics(result: HyperfineInput): CellResult['metrics'] {
  const metrics: CellResult['metrics'] = {};
  for (const [name, seconds] of [['user_mean_ms', result.user], ['sys_mean_ms', result.system]] as const) {
    if (seconds === null) continue;
    const value = [seconds * 1000];
    metrics[name] = { ...IMPORTED_CPU_METRICS[name], samples: value, summary: summarize(value) };
  }
  return metrics;
}

function hyperfineFacts(result: HyperfineInput, mapped: boolean): { hyperfine: HyperfineFacts } {
  return {
    hyperfine: {
      ...(mapped ? { command: result.command } : {}),
      user: result.user,
      system: result.system,
      exit_codes: result.exit_codes,
      ...(mapped && Object.keys(result.parameters).length > 0 ? { parameters: result.parameters } : {}),
      ...(result.memory_usage_byte ? { memory_usage_byte: result.memory_usage_byte } : {}),
    },
  };
}

/**
 * The artifact of an import; the caller validates and writes it (writeArtifact).
 * Unmapped: a rig of its own (named ctx.rig, one cell per command). Onto
 * `target`: the rig's name, file, cells and metrics, hyperfine's times in its
 * wall metric, its CPU means as user_mean_ms / sys_mean_ms beside them.
 */
export function artifactFromHyperfine(results: readonly HyperfineInput[], ctx: ImportContext, target?: ImportTarget): Artifact {
  const hasCpu = results.some((r) => r.user !== null || r.system !== null);
  const cpuDefs = hasCpu ? IMPORTED_CPU_METRICS : {};
  let rig: Artifact['rig'];
  let cells: CellResult[];
  if (target) {
    const wallDef = target.rig.metrics[target.wall]!;
    const divisor = SECONDS_DIVISOR[wallDef.unit]!;
    rig = { name: target.rig.name, path: target.path, sha256: target.sha256, definition: { ...target.rig, metrics: { ...target.rig.metrics, ...cpuDefs } } };
    cells = target.mapped.map(({ cell, result }) => {
      const samples = result.times.map((seconds) => seconds * divisor);
      return {
        id: cell.id,
        params: cell.params,
        status: 'ok',
        concurrency: 1,
        warmup: 0,
        facts: hyperfineFacts(result, true),
        metrics: { [target.wall]: { ...wallDef, samples, summary: summarize(samples) }, ...cpuMetrics(result) },
      };
    });
  } else {
    const definition = RigFile.parse({
      name: ctx.rig,
      title: `Imported from hyperfine: ${ctx.file}`,
      claim: `hyperfine's measurements of ${results.length} command${results.length === 1 ? '' : 's'}, converted to a rigor artifact, not measured again.`,
      workload: 'command',
      matrix: { include: results.map((r) => ({ command: r.command, ...r.parameters })) },
      // hyperfine's export does not record its warmup runs; the runs of each command are all it has
      sampling: { warmup: 0, iterations: Math.max(...results.map((r) => r.times.length)) },
      metrics: { wall_ms: IMPORTED_WALL_MS, ...cpuDefs },
    });
    rig = { name: ctx.rig, path: ctx.file, sha256: ctx.sha256, definition };
    cells = results.map((result) => {
      const params = { command: result.command, ...result.parameters };
      const samples = result.times.map((seconds) => seconds * 1000);
      return {
        id: importedCellId(params),
        params,
        status: 'ok',
        concurrency: 1,
        warmup: 0,
        facts: hyperfineFacts(result, false),
        metrics: { wall_ms: { ...IMPORTED_WALL_MS, samples, summary: summarize(samples) }, ...cpuMetrics(result) },
      };
    });
  }
  const where = 'imported from hyperfine: this host block is the machine that imported the file; the export does not say where hyperfine ran';
  const timer = target
    ? `imported from hyperfine: ${target.wall} holds hyperfine's own times of the rig's commands (with -N, fork/exec to wait, as the command workload's clock; without -N, through a shell less its measured start-up), not rigor's; user_mean_ms and sys_mean_ms are hyperfine's means per command`
    : null;
  return {
    schema: ARTIFACT_SCHEMA_ID,
    tool: { name: 'rigor', version: TOOL_VERSION },
    rig,
    run: {
      id: ctx.runId,
      command_line: ctx.commandLine,
      started_at: ctx.measuredAt,
      finished_at: ctx.measuredAt,
      status: 'complete',
      overrides: target?.overrides ?? {},
      imported_from: ctx.file,
    },
    git: ctx.git,
    host: { ...ctx.host, warnings: [...ctx.host.warnings, where, ...(timer ? [timer] : [])] },
    // what the numbers came from: the file, by its bytes
    environment: { imported: { format: 'hyperfine', file: ctx.file, sha256: ctx.sha256 } },
    cells,
    gates: [],
    ratios: [],
  };
}
