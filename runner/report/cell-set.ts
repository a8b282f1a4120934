/**
 * Cells as the matrix axes they vary: a column per axis when every cell has
 * the same axes, and a set of cells said short ("backend=process|bwrap ×
 * concurrency=1|4", "all 8 measured cells") for the gate summary.
 */
import type { CellResult } from '../artifact/schema.ts';

/** The axis names shared by every cell, in order; null when cells differ in their axes (then the cell id is the label). */
export function sharedAxes(cells: readonly CellResult[]): string[] | null {
  const keysOf = (cell: CellResult) => axisEntries(cell)?.map(([key]) => key) ?? null;
  const axes = cells.length > 0 ? keysOf(cells[0]!) : null;
  if (!axes || axes.length === 0) return null;
  const same = cells.every((cell) => {
    const keys = keysOf(cell);
    return keys !== null && keys.length === axes.length && keys.every((key, i) => key === axes[i]);
  });
  return same ? axes : null;
}

/**
 * The params that name a cell, as [key, value] in id order: an include extra
 * decorates a cell without naming it, so it is left out. null when the id is
 * not made of the params (an artifact from elsewhere).
 */
export function axisEntries(cell: CellResult): [string, string][] | null {
  let rest = cell.id;
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(cell.params)) {
    if (!(value === null || ['string', 'number', 'boolean'].includes(typeof value))) continue;
    const piece = `${key}=${String(value)}`;
    if (rest !== piece && !rest.startsWith(`${piece},`)) continue;
    entries.push([key, String(value)]);
    rest = rest.slice(piece.length + 1);
  }
  return rest === '' && entries.length > 0 ? entries : null;
}

/**
 * A subset of the artifact's cells in few words: "all 14 cells", "all 8
 * measured cells", "the 6 skipped cells", else grouped by axis values, else
 * the ids.
 */
export function describeCells(subset: readonly string[], cells: readonly CellResult[]): string {
  const chosen = new Set(subset);
  const picked = cells.filter((cell) => chosen.has(cell.id));
  const same = (ids: readonly CellResult[]) => ids.length === picked.length && ids.every((cell) => chosen.has(cell.id));
  const ok = cells.filter((cell) => cell.status === 'ok');
  const notOk = cells.filter((cell) => cell.status !== 'ok');
  if (picked.length === 0) return 'no cells';
  if (same(cells)) return cells.length === 1 ? `the only cell, ${cells[0]!.id}` : `all ${cells.length} cells`;
  if (ok.length > 1 && same(ok)) return `all ${ok.length} measured cells`;
  if (notOk.length > 1 && same(notOk)) {
    const statuses = new Set(notOk.map((cell) => cell.status));
    return `the ${notOk.length} ${statuses.size === 1 ? [...statuses][0] : 'unmeasured'} cells`;
  }
  const axes = sharedAxes(cells);
  if (!axes || picked.length === 1) return picked.map((cell) => cell.id).join('; ');
  return groupByAxes(picked.map((cell) => new Map(axisEntries(cell) ?? [])), axes);
}

/** Tuples of axis values as products: "backend=process|bwrap × concurrency=1|4; backend=qemu × concurrency=1". */
function groupByAxes(tuples: Map<string, string>[], axes: string[]): string {
  const [axis, ...rest] = axes;
  if (axis === undefined) return '';
  // For each value of the first axis, the rest said short; values whose rest reads the same are merged.
  const groups: { values: string[]; rest: string }[] = [];
  for (const value of [...new Set(tuples.map((tuple) => tuple.get(axis)!))]) {
    const restText = groupByAxes(tuples.filter((tuple) => tuple.get(axis) === value), rest);
    const group = groups.find((g) => g.rest === restText);
    if (group) group.values.push(value);
    else groups.push({ values: [value], rest: restText });
  }
  const parts = groups.map((g) => {
    const rest = g.rest.includes('; ') ? `(${g.rest})` : g.rest;
    return `${axis}=${g.values.join('|')}${rest ? ` × ${rest}` : ''}`;
  });
  return parts.join('; ');
}
