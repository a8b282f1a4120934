/**
 * Every cell's params checked against its workload's (param-problems.ts) when
 * a rig is loaded, each problem placed where the user wrote it: a key or value
 * of `params:`, an axis value, or an include entry. A problem many cells share
 * is reported once.
 */
import { InputError } from '../../base/errors.ts';
import { formatField, locate, type FieldPath, type RigText } from '../../base/positions.ts';
import type { RigProblem } from './errors.ts';
import type { TracedCell } from './matrix.ts';
import { cellWorkload, keyRoles, paramProblems, type KeyRole, type ParamProblem, type ParamsContract, type RigParamsView } from './param-problems.ts';
import { valueAt } from './schema-problems.ts';
import { placeholders, substitute } from './substitute.ts';
import { nearest } from './suggest.ts';

export interface ParamsPositionsContext {
  file: string;
  text: RigText;
  /** The params side of the workload called `name`; undefined for one that does not exist. */
  contract: (name: string) => ParamsContract | undefined;
}

interface Placed {
  path: FieldPath;
  part: 'value' | 'key';
  field: string;
  expected: string;
  found: string;
  /** A missing key is told with the cells that lack it ("nothing in cell a; b") unless every cell checked does. */
  perCell?: true;
}

/** Where the cell's param `key` is written: its include entry or axis value, else the rig's `params:`. */
function originOf(cell: TracedCell, rig: RigParamsView, key: string): FieldPath | undefined {
  if (Object.hasOwn(cell.origins, key)) return ['matrix', ...cell.origins[key]!];
  return Object.hasOwn(rig.params, key) ? ['params', key] : undefined;
}

/** A missing key: said where it would go (the include entry making the cell, else `params:`), or at a written key that likely misspells it. */
function placeMissing(problem: ParamProblem, cell: TracedCell, rig: RigParamsView, merged: Record<string, unknown>, roleOf: (key: string) => KeyRole, paramsWritten: boolean): Placed {
  const key = String(problem.path[0]);
  const field = formatField(['params', ...problem.path]);
  // A workload without a schema cannot call the typo unknown: the missing key points at it.
  const typo = Object.keys(merged).find((written) => written !== key && roleOf(written) !== 'label' && nearest(written, [key]) === key);
  const typoAt = typo === undefined ? undefined : originOf(cell, rig, typo);
  if (typo !== undefined && typoAt) {
    return { path: typoAt, part: 'key', field, expected: problem.expected, found: `nothing (did you mean "${key}" for "${typo}"?)` };
  }
  const path: FieldPath = cell.includedBy !== undefined ? ['matrix', 'include', cell.includedBy] : paramsWritten ? ['params'] : ['matrix'];
  return { path, part: 'value', field, expected: problem.expected, found: 'nothing', perCell: true };
}

function place(problem: ParamProblem, cell: TracedCell, rig: RigParamsView, merged: Record<string, unknown>, roleOf: (key: string) => KeyRole, paramsWritten: boolean): Placed {
  if (problem.missing && problem.path.length === 1) return placeMissing(problem, cell, rig, merged, roleOf, paramsWritten);
  const [key, ...rest] = problem.path;
  const origin = key === undefined ? undefined : originOf(cell, rig, String(key));
  if (!origin) {
    const path: FieldPath = ['params', ...problem.path];
    return { path, part: 'value', field: formatField(path), expected: problem.expected, found: problem.found };
  }
  if (problem.unknown) return { path: origin, part: 'key', field: formatField(origin), expected: problem.expected, found: problem.found };
  // A value that came from a {placeholder} is told with what was written and the cell it was filled in.
  const raw = valueAt(rig, origin);
  const filled = typeof raw === 'string' && placeholders(raw).length > 0 ? ` (from ${JSON.stringify(raw)} in cell ${cell.id})` : '';
  const path = [...origin, ...rest];
  return { path, part: 'value', field: formatField(path), expected: problem.expected, found: `${problem.found}${filled}` };
}

/** The problems of every cell's params, each once, placed in the rig file. */
export function paramsPositionProblems(rig: RigParamsView, cells: readonly TracedCell[], ctx: ParamsPositionsContext, paramsWritten: boolean): RigProblem[] {
  const contracts = new Map<string, ParamsContract>();
  for (const cell of cells) {
    const name = cellWorkload(rig, cell.params);
    const contract = name === undefined ? undefined : ctx.contract(name);
    if (name !== undefined && contract) contracts.set(name, contract);
  }
  const roles = keyRoles(rig, [...contracts.values()].flatMap((c) => (c.paramsSchema ? [c.paramsSchema] : [])));

  const placed = new Map<string, Placed & { cells: string[] }>();
  let checked = 0;
  for (const cell of cells) {
    const name = cellWorkload(rig, cell.params);
    const contract = name === undefined ? undefined : contracts.get(name);
    if (!contract) continue;
    const merged = { ...rig.params, ...cell.params };
    let params: Record<string, unknown>;
    try {
      params = substitute(merged, merged) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof InputError) continue; // an unknown {placeholder}: reported by the placeholder check
      throw error;
    }
    checked++;
    const roleOf = roles(cell.params);
    for (const problem of paramProblems(contract, params, { workload: name!, roleOf })) {
      const at = place(problem, cell, rig, merged, roleOf, paramsWritten);
      const key = JSON.stringify([at.path, at.part, at.field, at.expected, at.found]);
      const seen = placed.get(key);
      if (seen) seen.cells.push(cell.id);
      else placed.set(key, { ...at, cells: [cell.id] });
    }
  }
  return [...placed.values()].map((p) => {
    const { line, column } = locate(ctx.text, p.path, p.part);
    const found = p.perCell && p.cells.length < checked ? `${p.found} in cell${p.cells.length === 1 ? '' : 's'} ${p.cells.join('; ')}` : p.found;
    return { file: ctx.file, line, column, field: p.field, expected: p.expected, found };
  });
}
