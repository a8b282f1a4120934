/** Checks of a workload's params that many workloads share, each returning its problems ([] when fine). */
import { describeFound } from '../errors.ts';

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
