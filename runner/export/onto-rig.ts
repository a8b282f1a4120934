/**
 * A hyperfine import mapped onto a rig's cells: each result is the cell of
 * the rig whose command is the one hyperfine ran — a shell string as written
 * (blanks between words aside), an argv as the words hyperfine -N splits its
 * command into — so the import files under the rig's name and cell ids and
 * compares with the rig's own runs. Pure.
 */
import { InputError } from '../../base/errors.ts';
import { expandMatrix } from '../rig/matrix.ts';
import type { MetricDef, Rig } from '../rig/schema.ts';
import { cellParams } from '../rig/substitute.ts';
import { quoted } from '../../base/printable.ts';
import { shellQuote } from '../../base/shell-quote.ts';
import type { HyperfineInput } from './hyperfine-format.ts';

/** A cell of the rig that runs a command (the command workload's), with the command substituted. */
export interface CommandCell {
  id: string;
  /** The cell's matrix values, as an artifact records them. */
  params: Record<string, unknown>;
  run: string | string[];
}

export interface MappedResult {
  cell: CommandCell;
  result: HyperfineInput;
}

/** Divisor from a time unit to seconds. */
export const SECONDS_DIVISOR: Readonly<Record<string, number>> = { s: 1, ms: 1e3, us: 1e6, 'µs': 1e6, ns: 1e9 };

/** Metrics the command workload fills with the child's CPU time, not its wall time. */
export const CPU_METRICS = ['user_ms', 'sys_ms'];

/**
 * A command as hyperfine -N reads it: words split at blanks, '…' and "…"
 * quoting and backslash escapes joined into them (POSIX shell words, as the
 * shell-words crate hyperfine uses); null when a quote is left open.
 */
export function commandWords(command: string): string[] | null {
  const words: string[] = [];
  let word = '';
  // a word has begun: '' (quoted empty) is a word, blanks are not
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    const next = command[i + 1];
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === '\\' && next !== undefined && '"\\$`'.includes(next)) word += command[++i];
      else word += char;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (char === "'" || char === '"') quote = char;
      else if (char === '\\' && next !== undefined) word += command[++i];
      else word += char;
    }
  }
  if (quote) return null;
  if (inWord) words.push(word);
  return words;
}

/** The rig's cells that run a command (workload `command`), each with its run substituted. */
export function commandCells(rig: Rig): CommandCell[] {
  return expandMatrix(rig.matrix).flatMap((cell) => {
    const workload = typeof cell.params.workload === 'string' ? cell.params.workload : rig.workload;
    if (workload !== 'command') return [];
    const { run } = cellParams(rig, cell);
    const isArgv = Array.isArray(run) && run.length > 0 && run.every((word) => typeof word === 'string');
    return typeof run === 'string' || isArgv ? [{ id: cell.id, params: cell.params, run: run as string | string[] }] : [];
  });
}

function runs(cell: CommandCell, command: string): boolean {
  if (typeof cell.run === 'string') return cell.run === command || cell.run.trim().split(/\s+/).join(' ') === command.trim().split(/\s+/).join(' ');
  const words = commandWords(command);
  return words !== null && words.length === cell.run.length && words.every((word, i) => word === cell.run[i]);
}

/** "cache=warm": a param whose value tells the first of these cells from another, for a --set that picks it. */
function telling(cells: readonly CommandCell[]): string {
  const [first, ...others] = cells;
  const told = Object.entries(first!.params).find(
    ([key, value]) => value !== null && typeof value !== 'object' && others.some((other) => other.params[key] !== undefined && other.params[key] !== value),
  );
  return told ? `${told[0]}=${String(told[1])}` : 'key=value';
}

function shown(cell: CommandCell): string {
  return `${cell.id}: ${JSON.stringify(typeof cell.run === 'string' ? cell.run : shellQuote(cell.run))}`;
}

/**
 * Each result with the one cell that runs its command. A result no cell runs,
 * one that two cells run (narrow them with --set), or two results for one
 * cell is an InputError naming the file, the result and the rig's cells.
 */
export function mapOntoCells(results: readonly HyperfineInput[], cells: readonly CommandCell[], file: string, rigPath: string): MappedResult[] {
  if (cells.length === 0) throw new InputError(`${rigPath}: no cell of this rig runs a command (workload command) for ${file}'s results to map onto`);
  const taken = new Map<string, number>();
  const listed = () => {
    const lines = cells.slice(0, 12).map((cell) => `  ${shown(cell)}`);
    if (cells.length > 12) lines.push(`  ... and ${cells.length - 12} more`);
    return lines.join('\n');
  };
  return results.map((result, i) => {
    const at = `${file}: results[${i}].command ${quoted(result.command)}`;
    const matching = cells.filter((cell) => runs(cell, result.command));
    if (matching.length === 0) throw new InputError(`${at}: expected the command of a cell of ${rigPath}, found none that runs it; its cells run:\n${listed()}`);
    if (matching.length > 1) {
      throw new InputError(`${at}: ${matching.length} cells of ${rigPath} run it (${matching.map((cell) => cell.id).join('; ')}); pick one with --set, e.g. --set ${telling(matching)}`);
    }
    const cell = matching[0]!;
    const earlier = taken.get(cell.id);
    if (earlier !== undefined) throw new InputError(`${at}: the cell ${cell.id} of ${rigPath} already has results[${earlier}]; one result per cell`);
    taken.set(cell.id, i);
    return { cell, result };
  });
}

/** The rig's metric that holds wall time, as the command workload picks it: the first time metric that is not CPU time. */
export function wallMetric(rig: Rig, rigPath: string): [string, MetricDef] {
  const found = Object.entries(rig.metrics).find(([name, def]) => !CPU_METRICS.includes(name) && SECONDS_DIVISOR[def.unit] !== undefined);
  if (!found) {
    throw new InputError(`${rigPath}: metrics: expected a time metric (unit ${Object.keys(SECONDS_DIVISOR).join(', ')}) to hold hyperfine's times, found ${Object.keys(rig.metrics).join(', ')}`);
  }
  return found;
}
