/**
 * One cell's params against its workload's declared params (a strict zod
 * object, then the workload's cross-field checks): each problem as a path
 * inside the params, what was expected — worded as the rig file's own fields
 * are — and what was found. A rig load places them in the file
 * (params-positions.ts); a run checks each cell again after --set (plan.ts).
 */
import type { z } from 'zod';
import { describeFound } from '../../base/errors.ts';
import { formatField } from '../../base/positions.ts';
import type { Matrix } from './schema.ts';
import { valueAt } from './schema-problems.ts';
import { placeholders } from './substitute.ts';
import { didYouMean, editDistance, nearest } from './suggest.ts';

/** The params side of a workload (runner/contract/workload.ts). */
export interface ParamsContract {
  /** The cell's params as a strict object: a key it does not name is unknown. */
  paramsSchema?: z.ZodObject;
  /** Checks across params the schema cannot express, each "params.x: expected …, found …". */
  validateParams?(params: Record<string, unknown>): string[];
}

/** Cell keys the runner reads itself: a cell's own workload and sampling (run/plan.ts). */
const RUNNER_CELL_KEYS: readonly string[] = ['workload', 'concurrency', 'warmup', 'iterations'];

export type ParamPath = (string | number)[];

export interface ParamProblem {
  /** Inside the params, e.g. ['env', 'HOME']. */
  path: ParamPath;
  expected: string;
  found: string;
  /** The key is no parameter of the workload (the problem is about the key, not its value). */
  unknown?: boolean;
  /** For an unknown key: the parameter it likely misspells. */
  suggestion?: string;
  /** The key is absent. */
  missing?: boolean;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  null: 'null',
};

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function bound(issue: { origin: string; inclusive?: boolean }, limit: number | bigint, below: boolean): string {
  const n = Number(limit);
  if (issue.origin === 'array' || issue.origin === 'set') return below ? `a list of at least ${n} value${n === 1 ? '' : 's'}` : `a list of at most ${n} values`;
  if (issue.origin === 'string') return below ? (n === 1 ? 'a non-empty string' : `a string of at least ${n} characters`) : `a string of at most ${n} characters`;
  return `a number ${below ? '>' : '<'}${issue.inclusive ? '=' : ''} ${n}`;
}

/**
 * zod's issues worded as the "expected" half of a problem. A schema's own
 * message (`z.int({ error: 'a whole number of MiB (>= 1)' })`) wins over these.
 */
const expectedWording: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      // z.int() expects a "number" of a string: say integer all the same.
      const format = (issue.inst as { _zod?: { def?: { format?: unknown } } } | undefined)?._zod?.def?.format;
      return issue.expected === 'number' && typeof format === 'string' && format.includes('int') ? TYPE_WORDS.int : (TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`);
    }
    case 'too_small':
      return bound(issue, issue.minimum, true);
    case 'too_big':
      return bound(issue, issue.maximum, false);
    case 'invalid_value': {
      if (issue.values.length === 1) return show(issue.values[0]);
      const values = issue.values.map(String);
      return `one of ${values.join(', ')}${typeof issue.input === 'string' ? didYouMean(issue.input, values) : ''}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue ? `a string matching ${String(issue.pattern)}` : `a ${issue.format}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_union': {
      // Each branch's own type, when that is what every branch says: "a string or a list".
      const types = issue.errors.map((branch) => (branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0 ? TYPE_WORDS[branch[0]!.expected] : undefined));
      return types.every(Boolean) ? [...new Set(types)].join(' or ') : 'one of the allowed forms';
    }
    default:
      return undefined;
  }
};

/**
 * How a key of a cell that the schema does not name is taken (ParamsCheck.roleOf):
 * - `label`: never the workload's to judge — a key a {placeholder} or a `where`
 *   reads, the runner's own, a rig-wide param another workload of the rig takes;
 * - `cell`: a matrix axis or include key, which may name or annotate cells — the
 *   workload's only when it looks like a misspelt parameter;
 * - undefined (a key of `params:`): the workload's.
 */
export type KeyRole = 'label' | 'cell' | undefined;

/** The params the schema sees: keys that are not the workload's to judge left out, unless the schema names them. */
function judged(known: readonly string[], params: Record<string, unknown>, roleOf: (key: string) => KeyRole): Record<string, unknown> {
  const unset = known.filter((name) => !Object.hasOwn(params, name));
  const judge = (key: string) => {
    const role = roleOf(key);
    // A matrix key names cells as the user likes: only one a single typo away from a parameter is taken for it (`rnu`, not `step`).
    return known.includes(key) || role === undefined || (role === 'cell' && unset.some((name) => editDistance(key, name) <= 1));
  };
  return Object.fromEntries(Object.entries(params).filter(([key]) => judge(key)));
}

/** The schema's problems with the params: unknown keys, one each with the known key it likely misspells, then values. */
export function schemaProblems(schema: z.ZodObject, params: Record<string, unknown>, workload: string, roleOf: (key: string) => KeyRole = () => undefined): ParamProblem[] {
  const known = Object.keys(schema.shape);
  const result = schema.safeParse(judged(known, params, roleOf), { error: expectedWording });
  if (result.success) return [];
  const problems: ParamProblem[] = [];
  const misspelt = new Set<string>();
  for (const issue of result.error.issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys' && path.length === 0) {
      for (const key of issue.keys) {
        const hint = nearest(key, known.filter((name) => !Object.hasOwn(params, name)));
        if (hint) misspelt.add(hint);
        problems.push({
          path: [key],
          unknown: true,
          ...(hint ? { suggestion: hint } : {}),
          expected: `a parameter of ${workload} (${hint ? `did you mean "${hint}"? ` : ''}allowed: ${known.join(', ')})`,
          found: `unknown parameter "${key}"`,
        });
      }
      continue;
    }
    const value = valueAt(params, path);
    const missing = value === undefined && !(path.length === 1 && Object.hasOwn(params, path[0]!));
    problems.push({ path, expected: issue.message, found: describeFound(value), ...(missing ? { missing: true } : {}) });
  }
  // A misspelt required key shows up twice (unknown + missing): keep the one that names the typo.
  return problems.filter((p) => !(p.missing && p.path.length === 1 && misspelt.has(String(p.path[0]))));
}

/** "params.env.HOME: expected a string, found a mapping" back into its parts; a message of another form keeps its text as the expectation. */
export function parseParamProblem(message: string, params: Record<string, unknown>): ParamProblem {
  const match = /^params\.([^:\s]+): ([\s\S]*)$/.exec(message);
  const path: ParamPath = match ? match[1]!.split('.') : [];
  const rest = match ? match[2]! : message;
  const parts = /^expected ([\s\S]*), found ([\s\S]*)$/.exec(rest);
  const value = valueAt(params, path);
  const found = parts ? parts[2]! : describeFound(value);
  return { path, expected: parts ? parts[1]! : rest, found, ...(found === 'nothing' && value === undefined ? { missing: true } : {}) };
}

export interface ParamsCheck {
  /** The workload's name, for "a parameter of sandbox.lifecycle". */
  workload: string;
  /** How a key the schema does not name is taken (see KeyRole); without it every key is the workload's. */
  roleOf?: (key: string) => KeyRole;
}

/**
 * Every problem of one cell's params (after substitution): the schema's, then,
 * when every value has the type it declares (unknown keys aside), the workload's
 * cross-field checks.
 */
export function paramProblems(contract: ParamsContract, params: Record<string, unknown>, check: ParamsCheck): ParamProblem[] {
  const problems = contract.paramsSchema ? schemaProblems(contract.paramsSchema, params, check.workload, check.roleOf) : [];
  if (problems.some((p) => !p.unknown)) return problems;
  // A key the workload finds missing that an unknown key misspells is told once, as the typo.
  const misspelt = new Set(problems.map((p) => p.suggestion));
  const crossField = (contract.validateParams?.(params) ?? []).map((message) => parseParamProblem(message, params));
  return [...problems, ...crossField.filter((p) => !(p.missing && p.path.length === 1 && misspelt.has(String(p.path[0]))))];
}

/** `params.setpu: expected a parameter of command (did you mean "setup"? …), found unknown parameter "setpu"` */
export function formatParamProblem(problem: ParamProblem): string {
  return `${formatField(['params', ...problem.path])}: expected ${problem.expected}, found ${problem.found}`;
}

/** What a rig gives its cells besides their own values, and what selects cells by their keys. */
export interface RigParamsView {
  workload: unknown;
  params: Record<string, unknown>;
  matrix: Matrix;
  requires: readonly unknown[];
  gates?: readonly unknown[];
  ratios?: readonly unknown[];
}

/** Every string inside a value. */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) yield* stringsIn(item);
}

const whereKeys = (entry: unknown): string[] => {
  const where = entry !== null && typeof entry === 'object' ? (entry as { where?: unknown }).where : undefined;
  return where !== null && typeof where === 'object' && !Array.isArray(where) ? Object.keys(where) : [];
};

/**
 * The roles of a rig's keys (ParamsCheck.roleOf) for one cell's own values:
 * `schemas` are those of the workloads the rig's cells use.
 */
export function keyRoles(rig: RigParamsView, schemas: readonly z.ZodObject[]): (cell: Record<string, unknown>) => (key: string) => KeyRole {
  const list = (value: readonly unknown[] | undefined) => (Array.isArray(value) ? value : []);
  const requiredBinaries = list(rig.requires).map((req) => (req !== null && typeof req === 'object' ? (req as { binary?: unknown }).binary : undefined));
  const read = [...stringsIn(rig.params), ...stringsIn(rig.matrix.include ?? []), ...stringsIn(requiredBinaries)].flatMap(placeholders);
  const selected = [
    ...list(rig.requires),
    ...list(rig.gates),
    ...list(rig.ratios).flatMap((ratio) => (ratio !== null && typeof ratio === 'object' ? [(ratio as { of?: unknown }).of, (ratio as { to?: unknown }).to] : [])),
  ].flatMap(whereKeys);
  const labels = new Set([...RUNNER_CELL_KEYS, ...read, ...selected]);
  const takenSomewhere = (key: string) => schemas.some((schema) => Object.hasOwn(schema.shape, key));
  return (cell) => (key) => {
    if (labels.has(key)) return 'label';
    if (Object.hasOwn(cell, key)) return 'cell';
    return Object.hasOwn(rig.params, key) && takenSomewhere(key) ? 'label' : undefined;
  };
}

/** The workload a cell runs: its own (an include's `workload`) or the rig's. */
export function cellWorkload(rig: Pick<RigParamsView, 'workload'>, cell: Record<string, unknown>): string | undefined {
  const name = typeof cell.workload === 'string' ? cell.workload : rig.workload;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
