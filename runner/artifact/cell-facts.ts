/** The cell facts that change how a cell's numbers read, for the report and the site. Facts are free-form: anything else is null. */
import type { CellResult } from './schema.ts';

/** Why a cell that dropped the page cache is not cold (facts.cold, runner/process/cold.ts); null when it is, or does not say. */
export function notColdReason(cell: Pick<CellResult, 'facts'>): string | null {
  const cold = cell.facts?.cold as { cold?: unknown; why?: unknown } | undefined;
  if (cold?.cold !== false) return null;
  return typeof cold.why === 'string' ? cold.why : 'no reason recorded';
}
