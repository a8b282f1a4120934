/**
 * Checks of a workload's params that many workloads share: as functions returning
 * their problems ([] when fine), and as zod schemas for a paramsSchema, worded alike.
 */
import { z } from 'zod';
import { describeFound } from '../../base/errors.ts';

/**
 * `params[name]` must be a whole number >= 1 (or absent, unless `required`);
 * `unit` names what it counts ("MiB", "sandboxes") in the message.
 */
export function wholeNumberProblems(params: Record<string, unknown>, name: string, options: { required?: boolean; unit?: string } = {}): string[] {
  const value = params[name];
  if (value === undefined && !options.required) return [];
  if (Number.isInteger(value) && (value as number) >= 1) return [];
  const what = options.unit ? `a whole number of ${options.unit} (>= 1)` : 'a whole number >= 1';
  return [`params.${name}: expected ${what}, found ${describeFound(value)}`];
}

/** Whether `value` is an argv: a non-empty list of strings whose first names a program. */
export function isArgv(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string') && value[0] !== '';
}

/** `params[name]` must be an argv list (or absent, unless `required`). */
export function argvProblems(params: Record<string, unknown>, name: string, options: { required?: boolean } = {}): string[] {
  const value = params[name];
  if ((value === undefined && !options.required) || isArgv(value)) return [];
  return [`params.${name}: expected an argv list of strings, found ${describeFound(value)}`];
}

/** `params.env`: a mapping of variable names to strings (numbers and booleans are written as strings). */
export function envProblems(env: unknown): string[] {
  if (env === undefined) return [];
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return [`params.env: expected a mapping of names to strings, found ${describeFound(env)}`];
  return Object.entries(env)
    .filter(([, value]) => !['string', 'number', 'boolean'].includes(typeof value))
    .map(([name, value]) => `params.env.${name}: expected a string, found ${describeFound(value)}`);
}

/** A whole number >= `least` (default 1), at most `most`; `unit` names what it counts ("MiB", "sandboxes"). */
export function wholeNumber(options: { unit?: string; least?: number; most?: number } = {}) {
  const { unit, least = 1, most } = options;
  const error =
    most !== undefined ? `a whole number${unit ? ` of ${unit}` : ''} from ${least} to ${most}` : unit ? `a whole number of ${unit} (>= ${least})` : `a whole number >= ${least}`;
  const int = z.int({ error }).min(least, { error });
  return most === undefined ? int : int.max(most, { error });
}

const ARGV = 'an argv list of strings';

/** An argv: a non-empty list of strings whose first names a program. */
export const Argv = z.array(z.unknown(), { error: ARGV }).refine(isArgv, { error: ARGV });

/** An exit code a run must end with, or 'any'. */
const EXIT = "an exit code 0-255 or 'any'";
export const ExpectExit = z.union([z.int({ error: EXIT }).min(0, { error: EXIT }).max(255, { error: EXIT }), z.literal('any')], { error: EXIT });

/** An environment: names to strings (numbers and booleans are written as strings). */
export const Env = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'a string' }), { error: 'a mapping of names to strings' });
