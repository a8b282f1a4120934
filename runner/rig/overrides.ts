/**
 * The CLI's `--set key=value`: narrow a matrix axis, or change a param or a
 * sampling setting, for one run without editing the rig file.
 *
 * - `axis=value` (or `axis=[a, b]`) replaces the axis' values. A value is
 *   taken as the rig file typed it when the axis lists it (`program=true`
 *   selects the rig's "true", not the boolean). A value the rig
 *   does not list is allowed (try a backend the rig has not tried yet); the
 *   artifact records the cells that ran. Include entries that name the axis with
 *   a value no longer in it are dropped, else they would come back as cells.
 * - `key=value` for a key an include entry adds sets it in those entries and in params.
 * - `params.a.b=value` sets a param (new ones too); `key=value` for an existing param.
 * - `sampling.field=value` sets a sampling field, checked like the rig file.
 */
import { LineCounter } from 'yaml';
import { InputError, describeFound } from '../../base/errors.ts';
import { boundedData, parseBoundedDocument } from '../../base/yaml-bounded.ts';
import { matrixAxes, type AxisValue } from './matrix.ts';
import { Sampling, type Rig } from './schema.ts';
import { choices } from './suggest.ts';

/** The value side: YAML, so "4" is a number and "[a, b]" a list; an empty value is "". */
function parseValue(set: string, raw: string): unknown {
  if (raw.trim() === '') return '';
  const lineCounter = new LineCounter();
  const parsed = parseBoundedDocument(raw, lineCounter);
  if (parsed.refusal) throw new InputError(`--set ${set}: expected ${parsed.refusal.expected}, found ${parsed.refusal.found}`);
  const error = parsed.doc.errors[0];
  if (error) throw new InputError(`--set ${set}: the value is not valid YAML (${error.message.split('\n')[0]})`);
  const bounded = boundedData(parsed.doc, lineCounter);
  if (bounded.refusal) throw new InputError(`--set ${set}: expected ${bounded.refusal.expected}, found ${bounded.refusal.found}`);
  return bounded.data;
}

function isAxisValue(value: unknown): value is AxisValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/**
 * The axis' own value that `value` spells, else `value`: the command line has
 * no quotes to tell "true" from true or "4" from 4, the rig file has.
 */
function asTyped(value: AxisValue, listed: readonly AxisValue[]): AxisValue {
  if (listed.includes(value)) return value;
  return listed.find((candidate) => String(candidate) === String(value)) ?? value;
}

/** Returns the value as set, typed as the rig's (what run.overrides records). */
function setAxis(rig: Rig, set: string, axis: string, value: unknown): unknown {
  const given = Array.isArray(value) ? value : [value];
  if (given.length === 0 || !given.every(isAxisValue)) {
    throw new InputError(`--set ${set}: expected a value or a list of values for matrix axis ${axis}, found ${describeFound(value)}`);
  }
  const listed = (rig.matrix[axis] ?? []) as AxisValue[];
  const values = given.map((v) => asTyped(v, listed));
  rig.matrix[axis] = values;
  if (rig.matrix.include) {
    rig.matrix.include = rig.matrix.include.filter((entry) => !Object.hasOwn(entry, axis) || values.includes(entry[axis] as AxisValue));
  }
  return Array.isArray(value) ? values : values[0];
}

function setParam(rig: Rig, set: string, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = rig.params;
  for (const key of keys.slice(0, -1)) {
    const next = node[key] ?? (node[key] = {});
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new InputError(`--set ${set}: params.${keys.slice(0, keys.indexOf(key) + 1).join('.')} is ${describeFound(next)}, not a mapping`);
    }
    node = next as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function setSampling(rig: Rig, set: string, field: string, value: unknown): void {
  const fields = Object.keys(Sampling.shape);
  if (!fields.includes(field)) {
    throw new InputError(`--set ${set}: expected a sampling field ${choices(field, fields)}, found "${field}"`);
  }
  const parsed = Sampling.safeParse({ ...rig.sampling, [field]: value });
  if (!parsed.success) {
    throw new InputError(`--set ${set}: sampling.${field}: expected ${parsed.error.issues[0]!.message}, found ${describeFound(value)}`);
  }
  const { iterations, max_iterations } = parsed.data;
  if (max_iterations !== undefined && max_iterations < iterations) {
    throw new InputError(`--set ${set}: sampling.max_iterations (${max_iterations}) must be >= sampling.iterations (${iterations})`);
  }
  rig.sampling = parsed.data;
}

export function applyOverrides(rig: Rig, sets: string[]): { rig: Rig; applied: Record<string, unknown> } {
  const next = structuredClone(rig);
  const applied: Record<string, unknown> = {};
  for (const set of sets) {
    const equals = set.indexOf('=');
    const key = set.slice(0, Math.max(equals, 0)).trim();
    if (equals < 0 || key === '') {
      throw new InputError(`--set ${set}: expected key=value, e.g. --set backend=bwrap, --set params.command=true or --set sampling.iterations=5`);
    }
    let value = parseValue(set, set.slice(equals + 1));
    const axes = matrixAxes(next.matrix).map(([name]) => name);
    const includeKeys = [...new Set((next.matrix.include ?? []).flatMap((entry) => Object.keys(entry)))].filter((k) => !axes.includes(k));
    if (axes.includes(key)) {
      value = setAxis(next, set, key, value);
    } else if (includeKeys.includes(key)) {
      for (const entry of next.matrix.include ?? []) if (Object.hasOwn(entry, key)) entry[key] = value;
      next.params[key] = value;
    } else if (key.startsWith('params.') && key.length > 'params.'.length) {
      setParam(next, set, key.slice('params.'.length), value);
    } else if (key.startsWith('sampling.')) {
      setSampling(next, set, key.slice('sampling.'.length), value);
    } else if (Object.hasOwn(next.params, key)) {
      next.params[key] = value;
    } else {
      const known = [...axes, ...includeKeys, ...Object.keys(next.params)];
      throw new InputError(
        `--set ${set}: expected a matrix axis, include key or param ${choices(key, known)}, params.<name> or sampling.<field>, found "${key}"`,
      );
    }
    applied[key] = value;
  }
  return { rig: next, applied };
}
