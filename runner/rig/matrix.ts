/**
 * Matrix expansion with GitHub Actions' documented rules: the cartesian product
 * of the axes (in declaration order), minus `exclude`, then `include` extends
 * matching combinations or adds new ones.
 */
import type { FieldPath } from '../../base/positions.ts';
import type { Matrix, Scalar } from './schema.ts';

export interface Cell {
  /**
   * "key=value,key=value": a combination of the axes is named by its axis
   * values in declaration order (include extras decorate it, they do not name
   * it); a cell that `include` adds is named by its scalar keys. Only scalar
   * (and null) values appear, so a list-valued extra (e.g. a command) does not
   * make the id unreadable. "default" for a rig without a matrix.
   */
  id: string;
  /** Axis values and include extras, in the same order as the id. */
  params: Record<string, unknown>;
}

/** Keys of a matrix that are not axes. */
export const RESERVED_MATRIX_KEYS = ['include', 'exclude'] as const;

export type AxisValue = Scalar | null;

/** The axes of a matrix, in declaration order. */
export function matrixAxes(matrix: Matrix): [string, AxisValue[]][] {
  return Object.entries(matrix).filter(
    (entry): entry is [string, AxisValue[]] => !(RESERVED_MATRIX_KEYS as readonly string[]).includes(entry[0]),
  );
}

/** True when every key of `where` is a param of the cell with exactly that value. */
export function cellMatches(params: Record<string, unknown>, where: Record<string, Scalar>): boolean {
  return Object.entries(where).every(([key, value]) => Object.hasOwn(params, key) && params[key] === value);
}

function isScalarOrNull(value: unknown): value is AxisValue {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

export function cellId(params: Record<string, unknown>): string {
  const parts = Object.entries(params)
    .filter(([, value]) => isScalarOrNull(value))
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.length === 0 ? 'default' : parts.join(',');
}

/** A cell with where each of its params is written in the matrix, for problems that point at it. */
export interface TracedCell extends Cell {
  /** Per param, its place inside `matrix`: `[axis, index]` or `['include', entry, key]` (the last include that set it). */
  origins: Record<string, FieldPath>;
  /** The include entry that made this cell (it matched no combination). */
  includedBy?: number;
}

export function expandMatrix(matrix: Matrix): Cell[] {
  return expandMatrixTraced(matrix).map(({ id, params }) => ({ id, params }));
}

export function expandMatrixTraced(matrix: Matrix): TracedCell[] {
  const axes = matrixAxes(matrix);
  const axisNames = new Set(axes.map(([name]) => name));
  if (axes.length === 0 && (matrix.include ?? []).length === 0) return [{ id: 'default', params: {}, origins: {} }];

  type Traced = { params: Record<string, unknown>; origins: Record<string, FieldPath> };
  const product = axes.length === 0
    ? []
    : axes.reduce<Traced[]>(
        (combinations, [name, values]) =>
          combinations.flatMap((c) => values.map((v, i) => ({ params: { ...c.params, [name]: v }, origins: { ...c.origins, [name]: [name, i] } }))),
        [{ params: {}, origins: {} }],
      );
  const combinations = product.filter((c) => !(matrix.exclude ?? []).some((exclude) => cellMatches(c.params, exclude)));

  // An include extends every original combination whose axis values it agrees with
  // (extras added earlier may be overwritten, axis values never); if none, it is a cell of its own.
  const added: (Traced & { includedBy: number })[] = [];
  for (const [index, entry] of (matrix.include ?? []).entries()) {
    const entryAxes = Object.keys(entry).filter((key) => axisNames.has(key));
    const extras = Object.entries(entry).filter(([key]) => !axisNames.has(key));
    let matched = false;
    for (const combination of combinations) {
      if (entryAxes.every((key) => combination.params[key] === entry[key])) {
        for (const [key, value] of extras) {
          combination.params[key] = value;
          combination.origins[key] = ['include', index, key];
        }
        matched = true;
      }
    }
    if (!matched) {
      const inAxisOrder = axes.filter(([name]) => Object.hasOwn(entry, name)).map(([name]) => [name, entry[name]]);
      const params = Object.fromEntries([...inAxisOrder, ...extras]);
      added.push({ params, origins: Object.fromEntries(Object.keys(params).map((key) => [key, ['include', index, key]])), includedBy: index });
    }
  }
  // A combination is named by its axes alone (include extras only decorate it); an added cell by all its keys.
  const axisParams = (params: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(params).filter(([key]) => axisNames.has(key)));
  return [
    ...combinations.map(({ params, origins }) => ({ id: cellId(axisParams(params)), params, origins })),
    ...added.map(({ params, origins, includedBy }) => ({ id: cellId(params), params, origins, includedBy })),
  ];
}
