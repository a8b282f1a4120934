/**
 * What callgrind wrote (`--callgrind-out-file`): the events it counted, from
 * the `events:` line, and the program's total of each. The total is the
 * `totals:` line (the sum of the file's cost lines; one per part when dumps
 * were combined), or the `summary:` line in a file without one, as
 * iai-callgrind reads them: for the agent, which forks, the two differed.
 * Format: https://valgrind.org/docs/manual/cl-format.html
 */

export interface CallgrindTotals {
  /** Event names in the file's order, e.g. ["Ir"] or ["Ir", "Dr", "Dw"]. */
  events: string[];
  /** The program's total per event. */
  totals: Record<string, number>;
  /** Which line the totals came from. */
  from: 'totals' | 'summary';
}

/** A callgrind output file that holds no usable total; the message names the file and what is missing. */
export class CallgrindOutError extends Error {
  override name = 'CallgrindOutError';
}

const COUNTS = /^\d+(?:\s+\d+)*$/;

/** The numbers of a `totals:` or `summary:` line (a trailing event may be left out: it is 0). */
function counts(value: string, line: number, file: string): number[] {
  if (!COUNTS.test(value)) throw new CallgrindOutError(`${file}:${line}: expected counts (whole numbers), found ${JSON.stringify(value)}`);
  return value.split(/\s+/).map((text) => {
    const count = Number(text);
    if (!Number.isSafeInteger(count)) throw new CallgrindOutError(`${file}:${line}: count ${text} is beyond what a double holds exactly`);
    return count;
  });
}

/** Parse the text of a callgrind output file; `file` names it in errors. */
export function parseCallgrindOut(text: string, file: string): CallgrindTotals {
  let events: string[] | undefined;
  const totals: number[][] = [];
  let summary: number[] | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    const colon = line.indexOf(':');
    if (colon < 0 || line.startsWith('#')) return;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'events') events = value.split(/\s+/).filter(Boolean);
    else if (key === 'totals') totals.push(counts(value, i + 1, file));
    else if (key === 'summary') summary = counts(value, i + 1, file);
  });
  if (!events || events.length === 0) throw new CallgrindOutError(`${file}: expected an "events:" line naming what was counted, found none`);
  const rows = totals.length > 0 ? totals : summary ? [summary] : [];
  if (rows.length === 0) throw new CallgrindOutError(`${file}: expected a "totals:" or "summary:" line, found neither (did callgrind finish writing it?)`);
  const sums: Record<string, number> = {};
  events.forEach((event, i) => (sums[event] = rows.reduce((sum, row) => sum + (row[i] ?? 0), 0)));
  return { events, totals: sums, from: totals.length > 0 ? 'totals' : 'summary' };
}

/** The instructions executed (event Ir) in a callgrind output file. */
export function instructionsIn(text: string, file: string): number {
  const { events, totals } = parseCallgrindOut(text, file);
  const ir = totals.Ir;
  if (ir === undefined) throw new CallgrindOutError(`${file}: expected the event Ir (instructions) among the events, found ${events.join(' ')}`);
  return ir;
}
