/**
 * `{name}` placeholders in params, filled from the cell's parameters (as
 * hyperfine's --parameter-list does). `{{` is a literal `{`; `${...}` is left
 * alone so shell strings keep their variables; braces around anything that is
 * not a name (`{1..3}`, `{print $1}`, JSON) are literal text.
 */
import { InputError, describeFound } from '../../base/errors.ts';
import type { Rig } from './schema.ts';
import type { Cell } from './matrix.ts';

const TOKEN = /\{\{|\$\{|\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;
const WHOLE = /^\{([A-Za-z_][A-Za-z0-9_-]*)\}$/;

/** The placeholder names a string uses, in order. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(TOKEN)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));
}

function lookup(name: string, text: string, params: Record<string, unknown>): unknown {
  if (!Object.hasOwn(params, name)) {
    const known = Object.keys(params);
    throw new InputError(
      `unknown parameter {${name}} in ${JSON.stringify(text)} (known: ${known.length ? known.join(', ') : 'none'}; write {{ for a literal brace)`,
    );
  }
  return params[name];
}

function substituteString(text: string, params: Record<string, unknown>): unknown {
  const whole = WHOLE.exec(text);
  if (whole) return lookup(whole[1]!, text, params);
  return text.replace(TOKEN, (token, name: string | undefined) => {
    if (name === undefined) return token === '{{' ? '{' : token;
    const value = lookup(name, text, params);
    if (value === null) return '';
    if (typeof value === 'object') {
      throw new InputError(
        `parameter {${name}} is ${describeFound(value)}; inside ${JSON.stringify(text)} it must be a string, number or boolean (use "{${name}}" alone to pass it whole)`,
      );
    }
    return String(value);
  });
}

/**
 * Replace placeholders in every string of `value` (recursively through lists and
 * mappings; keys are left as written). A string that is exactly "{name}" becomes
 * the param's value itself, so a list stays a list; inside a longer string null
 * becomes "". Throws InputError for an unknown name.
 */
export function substitute(value: unknown, params: Record<string, unknown>): unknown {
  if (typeof value === 'string') return substituteString(value, params);
  if (Array.isArray(value)) return value.map((item) => substitute(item, params));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, params)]));
  }
  return value;
}

/**
 * The params a cell's workload sees: rig.params overlaid by the cell's params,
 * then substituted in one pass (a placeholder takes the other param's value as
 * written, placeholders in it are not expanded again). `builtins` are names
 * rigor gives every cell (`scratch`: the run's scratch directory); they are
 * placeholders only, not params.
 */
export function cellParams(rig: Rig, cell: Cell, builtins: Record<string, unknown> = {}): Record<string, unknown> {
  const merged = { ...rig.params, ...cell.params };
  return substitute(merged, { ...builtins, ...merged }) as Record<string, unknown>;
}
