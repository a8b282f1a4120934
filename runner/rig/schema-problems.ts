/**
 * ajv errors against schemas/rig.schema.json, rewritten as RigProblems a person
 * can act on: a YAML line:column, a dotted field, plain "expected" wording.
 */
import { describeFound } from '../../base/errors.ts';
import type { ErrorObject } from '../schema/ajv.ts';
import type { RigProblem } from './errors.ts';
import { formatField, locate, type FieldPath, type RigText } from '../../base/positions.ts';
import { Clock, Name } from './schema.ts';
import { didYouMean, nearest } from './suggest.ts';

type JsonSchema = Record<string, unknown>;

/** The wording schema.ts gives its patterns, keyed by the pattern the JSON Schema carries. */
const patternWording = new Map(
  [Name, Clock]
    .flatMap((schema) => schema.safeParse('').error?.issues ?? [])
    .flatMap((issue) => (issue.code === 'invalid_format' && issue.pattern ? [[issue.pattern.slice(1, -1), issue.message] as const] : [])),
);

const typeNames: Record<string, string> = {
  object: 'mapping',
  array: 'list',
  string: 'string',
  number: 'number',
  integer: 'integer',
  boolean: 'boolean',
  null: 'null',
};

/** "an integer", "a string, number or boolean". */
function typeNoun(type: unknown): string {
  const names = (Array.isArray(type) ? type : [type ?? 'value']).map((t) => typeNames[String(t)] ?? String(t));
  const listed = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  return `${/^[aeiou]/.test(listed) ? 'an' : 'a'} ${listed}`;
}

function decodePointer(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The sub-schema an ajv schemaPath ("#/properties/x/minimum") points into. */
function schemaAt(root: JsonSchema, schemaPath: string): JsonSchema {
  let node: unknown = root;
  for (const segment of decodePointer(schemaPath.replace(/^#/, ''))) {
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  return (node ?? {}) as JsonSchema;
}

/** The schema holding the failed keyword (schemaPath minus its last segment). */
function keywordParent(root: JsonSchema, error: ErrorObject): JsonSchema {
  return schemaAt(root, error.schemaPath.slice(0, error.schemaPath.lastIndexOf('/')));
}

/** A JSON pointer as a field path, with list indices as numbers. */
function toPath(pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node = data;
  for (const segment of decodePointer(pointer)) {
    path.push(Array.isArray(node) ? Number(segment) : segment);
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  return path;
}

/** The value at a path inside a document (undefined where the path leaves it). */
export function valueAt(data: unknown, path: FieldPath): unknown {
  let node = data;
  for (const segment of path) node = (node as Record<string | number, unknown> | null | undefined)?.[segment];
  return node;
}

/** A union whose branches only require fields ("max or min"): worded as one choice. */
function requiredOnly(branches: JsonSchema[]): string[] | undefined {
  const ok = branches.every((b) => Array.isArray(b.required) && Object.keys(b).every((k) => k === 'required' || k === 'properties'));
  return ok ? branches.flatMap((b) => b.required as string[]) : undefined;
}

/**
 * A union (anyOf) fails with every branch's errors. Keep one branch per failing
 * value, the form the writer most likely meant: the branch whose own required
 * fields it has (max_ratio: a relative gate), then whose own fields it uses
 * (max, alpha), then the one that asks least (an absolute gate), then fewest errors.
 */
function collapseUnions(errors: ErrorObject[], data: unknown, root: JsonSchema): ErrorObject[] {
  let kept = errors;
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!kept.includes(union)) continue; // inside a branch already dropped
    const branches = schemaAt(root, union.schemaPath) as unknown as JsonSchema[];
    const inBranch = (i: number) => (e: ErrorObject) =>
      e.schemaPath.startsWith(`${union.schemaPath}/${i}/`) && e.instancePath.startsWith(union.instancePath);
    if (requiredOnly(branches)) {
      kept = kept.filter((e) => !branches.some((_, i) => inBranch(i)(e)));
      continue;
    }
    // A value of a type no branch takes (3 for "an argv list or a shell string"): one problem naming every type.
    const own = branches.map((_, i) => kept.filter(inBranch(i)));
    if (own.every((list) => list.length === 1 && list[0]!.keyword === 'type' && list[0]!.instancePath === union.instancePath)) {
      const types = [...new Set(own.flatMap((list) => [(list[0]!.params as { type: unknown }).type].flat()))];
      const merged = { ...own[0]![0]!, params: { type: types } };
      kept = [...kept.filter((e) => e !== union && !branches.some((_, i) => inBranch(i)(e))), merged];
      continue;
    }
    const value = valueAt(data, toPath(union.instancePath, data));
    const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    const fieldsOf = branches.map((b) => Object.keys((b.properties as JsonSchema | undefined) ?? {}));
    const requiredOf = branches.map((b) => (Array.isArray(b.required) ? (b.required as string[]) : []));
    const ownCount = (i: number, fields: string[]) =>
      keys.filter((k) => fields.includes(k) && fieldsOf.every((f, j) => j === i || !f.includes(k))).length;
    const ranked = branches
      .map((_, i) => ({
        i,
        ownRequired: ownCount(i, requiredOf[i]!),
        ownFields: ownCount(i, fieldsOf[i]!),
        asks: requiredOf[i]!.length,
        errors: kept.filter(inBranch(i)).length,
      }))
      .sort((a, b) => b.ownRequired - a.ownRequired || b.ownFields - a.ownFields || a.asks - b.asks || a.errors - b.errors || a.i - b.i);
    const chosen = inBranch(ranked[0]!.i);
    kept = kept.filter((e) => chosen(e) || !branches.some((_, i) => inBranch(i)(e)));
    if (kept.some(chosen)) kept = kept.filter((e) => e !== union);
  }
  return kept;
}

interface Worded {
  path: (string | number)[];
  part: 'value' | 'key';
  expected: string;
  found: string;
  /** Set for a field that is absent (its position is its parent's). */
  missing?: boolean;
  /** For an unknown field: the known one it is probably a misspelling of. */
  suggestion?: string;
}

function word(error: ErrorObject, data: unknown, root: JsonSchema): Worded | undefined {
  const path = toPath(error.instancePath, data);
  const value = valueAt(data, path);
  const found = describeFound(value);
  const parent = keywordParent(root, error);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const description = (schemaAt(root, error.schemaPath.replace(/\/required$/, `/properties/${missing}`)).description ?? '') as string;
      return {
        path: [...path, missing],
        part: 'value',
        expected: `a field "${missing}"${description ? ` (${description})` : ''}`,
        found: 'nothing',
        missing: true,
      };
    }
    case 'additionalProperties': {
      const unknown = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties as JsonSchema | undefined) ?? {});
      const hint = nearest(unknown, allowed);
      return {
        path: [...path, unknown],
        part: 'key',
        expected: `a known field (${hint ? `did you mean "${hint}"? ` : ''}allowed: ${allowed.join(', ')})`,
        found: `unknown field "${unknown}"`,
        suggestion: hint,
      };
    }
    case 'type': {
      const reserved = path[0] === 'matrix' && (path[1] === 'include' || path[1] === 'exclude');
      const why = reserved
        ? ` (matrix.${path[1]} is reserved: a list of mappings that ${path[1] === 'include' ? 'add or extend' : 'remove'} cells; an axis cannot be called ${path[1]})`
        : '';
      const empty = path.length === 0 && value === null; // a file of nothing but comments
      return { path, part: 'value', expected: `${typeNoun(params.type)}${why}`, found: empty ? 'an empty document' : found };
    }
    case 'enum':
      return { path, part: 'value', expected: `one of ${(params.allowedValues as unknown[]).join(', ')}${didYouMean(String(value), (params.allowedValues as unknown[]).map(String))}`, found };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, part: 'value', expected: `${typeNoun(parent.type)} ${params.comparison} ${params.limit}`, found };
    case 'minLength':
      return { path, part: 'value', expected: params.limit === 1 ? 'a non-empty string' : `a string of at least ${params.limit} characters`, found };
    case 'minProperties':
      return { path, part: 'value', expected: `at least ${params.limit} entr${params.limit === 1 ? 'y' : 'ies'}`, found: 'none' };
    case 'minItems':
      return { path, part: 'value', expected: `a list of at least ${params.limit} value${params.limit === 1 ? '' : 's'}`, found };
    case 'uniqueItems': {
      // ajv names the repeat (j) and the earlier item it equals (i).
      const [repeat, first] = [Number(params.j), Number(params.i)];
      return { path: [...path, repeat], part: 'value', expected: `values that differ ([${first}] is the same)`, found: `${describeFound(valueAt(data, [...path, repeat]))} again` };
    }
    case 'pattern': {
      const pattern = String(params.pattern);
      const example = /e\.g\. (.*)$/.exec(String(parent.description ?? ''))?.[1];
      const wording = (patternWording.get(pattern) ?? `a string matching /${pattern}/`) + (example ? `, e.g. ${example}` : '');
      if (error.propertyName !== undefined) {
        return { path: [...path, error.propertyName], part: 'key', expected: wording, found: JSON.stringify(error.propertyName) };
      }
      return { path, part: 'value', expected: wording, found };
    }
    case 'propertyNames':
      return undefined; // the failed check inside it is reported with the key's position
    case 'if':
      return undefined; // the failed check inside its branch (a timed metric's clock pattern) is reported
    case 'anyOf': {
      const choices = requiredOnly(schemaAt(root, error.schemaPath) as unknown as JsonSchema[]);
      return choices
        ? { path, part: 'value', expected: `at least one of the fields ${choices.join(', ')}`, found: 'none of them' }
        : { path, part: 'value', expected: 'one of the allowed forms', found };
    }
    default:
      return { path, part: 'value', expected: (error.message ?? error.keyword).replace(/^must (be |have |match )?/, ''), found };
  }
}

export function schemaProblems(errors: ErrorObject[], data: unknown, root: JsonSchema, text: RigText, file: string): RigProblem[] {
  const worded = collapseUnions(errors, data, root).flatMap((e) => word(e, data, root) ?? []);
  // A misspelt required field shows up twice (unknown + missing): keep the one that names the typo.
  const misspelt = new Set(worded.flatMap((w) => (w.suggestion ? [formatField([...w.path.slice(0, -1), w.suggestion])] : [])));
  return worded
    .filter((w) => !(w.missing && misspelt.has(formatField(w.path))))
    .map((w) => {
      const { line, column } = locate(text, w.missing ? w.path.slice(0, -1) : w.path, w.part);
      return { file, line, column, field: formatField(w.path), expected: w.expected, found: w.found };
    });
}
