/**
 * A hyperfine `--export-json` file as a rigor artifact: one cell per result
 * (params: its command and any scan parameters), metric wall_ms (its times ×
 * 1000). Checking is strict and names the JSON path; building is pure.
 */
import { ARTIFACT_SCHEMA_ID, type Artifact, type CellResult, type Host } from '../artifact/schema.ts';
import { InputError } from '../../base/errors.ts';
import type { GitState } from '../host/git.ts';
import { cellId } from '../rig/matrix.ts';
import { RigFile, type MetricDef } from '../rig/schema.ts';
import { summarize } from '../stats/index.ts';
import { TOOL_VERSION } from '../version.ts';
import type { HyperfineFacts } from './hyperfine-format.ts';

/** The fields of a result the import reads; hyperfine's mean, median, min, max and stddev are recomputed from times. */
export interface HyperfineInput {
  command: string;
  times: number[];
  user: number | null;
  system: number | null;
  exit_codes: (number | null)[];
  parameters: Record<string, string>;
}

export const DEFAULT_IMPORT_RIG = 'imported-hyperfine';

const IMPORTED_WALL_MS: MetricDef = {
  unit: 'ms',
  better: 'lower',
  clock: 'hyperfine started the command -> hyperfine saw it exit (its own timer around each run, imported)',
};

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
      if (!(typeof t === 'number' && Number.isFinite(t) && t >= 0)) fail(`${at}.times[${k}]`, 'a finite number of seconds >= 0', t);
    });
    const cpu = (key: 'user' | 'system'): number | null => {
      const value = result[key];
      if (value === undefined || value === null) return null;
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fail(`${at}.${key}`, 'a number of seconds >= 0 or null', value);
    };
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
      if (typeof value !== 'string') fail(`${at}.parameters.${name}`, 'a string', value);
      if (name === 'command') throw new InputError(`${file}: ${at}.parameters.command: a parameter named "command" would hide the command; rename it`);
    }
    const id = cellId({ command: result.command, ...parameters });
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
    };
  });
}

export interface ImportContext {
  /** The hyperfine file, as given on the command line: becomes run.imported_from and rig.path. */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  rig: string;
  /** When the measurements were made, as well as can be told (the file's modification time). */
  measuredAt: string;
  runId: string;
  commandLine: string[];
  /** This machine: hyperfine's export does not say where it ran. */
  host: Host;
  git: GitState;
}

/** The artifact of an import; the caller validates and writes it (writeArtifact). */
export function artifactFromHyperfine(results: readonly HyperfineInput[], ctx: ImportContext): Artifact {
  const definition = RigFile.parse({
    name: ctx.rig,
    title: `Imported from hyperfine: ${ctx.file}`,
    claim: `hyperfine's measurements of ${results.length} command${results.length === 1 ? '' : 's'}, converted to a rigor artifact, not measured again.`,
    workload: 'command',
    matrix: { include: results.map((r) => ({ command: r.command, ...r.parameters })) },
    // hyperfine's export does not record its warmup runs; the runs of each command are all it has
    sampling: { warmup: 0, iterations: Math.max(...results.map((r) => r.times.length)) },
    metrics: { wall_ms: IMPORTED_WALL_MS },
  });
  const cells: CellResult[] = results.map((result) => {
    const params = { command: result.command, ...result.parameters };
    const samples = result.times.map((seconds) => seconds * 1000);
    const facts: { hyperfine: HyperfineFacts } = { hyperfine: { user: result.user, system: result.system, exit_codes: result.exit_codes } };
    return {
      id: cellId(params),
      params,
      status: 'ok',
      concurrency: 1,
      warmup: 0,
      facts,
      metrics: { wall_ms: { ...IMPORTED_WALL_MS, samples, summary: summarize(samples) } },
    };
  });
  return {
    schema: ARTIFACT_SCHEMA_ID,
    tool: { name: 'rigor', version: TOOL_VERSION },
    rig: { name: ctx.rig, path: ctx.file, sha256: ctx.sha256, definition },
    run: {
      id: ctx.runId,
      command_line: ctx.commandLine,
      started_at: ctx.measuredAt,
      finished_at: ctx.measuredAt,
      status: 'complete',
      overrides: {},
      imported_from: ctx.file,
    },
    git: ctx.git,
    host: {
      ...ctx.host,
      warnings: [...ctx.host.warnings, 'imported from hyperfine: this host block is the machine that imported the file; the export does not say where hyperfine ran'],
    },
    environment: {},
    cells,
    gates: [],
    ratios: [],
  };
}
