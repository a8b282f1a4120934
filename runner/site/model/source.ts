import { Footnotes as NumberedNotes } from '../../report/footnotes.ts';
import type { Stat } from '../../rig/schema.ts';

/**
 * A number as the site shows it, with where it came from: the artifact file
 * (path under the site root) and the JSON pointer of the value in it.
 */

/** How rendering formats the value; the value itself is never rounded in the model. */
export type NumberFormat = 'value' | 'ratio' | 'bytes' | 'count' | 'load';

export interface Shown {
  artifactPath: string;
  pointer: string;
  value: number;
  unit: string;
  format: NumberFormat;
  /** Set when the value is this statistic of the array at `pointer` (compare and gates recompute from raw samples). */
  derived?: Stat;
}

/** Why a place in a table has no number; `source` points at the reason in the artifact when it has one. */
export interface Dash {
  reason: string;
  /** Footnote number, shared by identical reasons on one page. */
  footnote: number;
  source?: { artifactPath: string; pointer: string };
}

/** Hands out footnote numbers per page (as the terminal report does): an identical reason keeps its number. */
export class Footnotes extends NumberedNotes {
  dash(reason: string, source?: Dash['source']): Dash {
    return { reason, footnote: this.number(reason), ...(source && { source }) };
  }
}
