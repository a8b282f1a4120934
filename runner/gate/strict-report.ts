/** What went unchecked (or missed its goal), said loudly: a box for the terminal, a list for the markdown summary. */
import { wrapText } from '../report/wrap.ts';
import type { StrictMode, Unchecked } from './strict.ts';

/** The --strict option's help, shared by `rigor run` and `rigor gate`. */
export const STRICT_HELP =
  'exit 1 on what was not checked (a gate that judged nothing, a skipped or missing cell a gate names, an incomplete run, a missed ratio goal); default: on when $CI is set, --no-strict turns it off';

/** What the findings do under this mode: "fails because CI=true; …" or "a warning here; …". */
export function modeClause(mode: StrictMode): string {
  if (mode.source === '--strict') return 'fails with --strict';
  if (mode.strict) return `fails because ${mode.source}; --no-strict makes it a warning`;
  if (mode.source === '--no-strict') return 'a warning with --no-strict; --strict or CI would fail it';
  return 'a warning here; --strict or CI would fail it';
}

/** "not checked", "goal missed", or "not checked or missed" when the findings are of both sorts. */
export function uncheckedNoun(unchecked: readonly Unchecked[]): string {
  const missed = unchecked.filter((item) => item.kind === 'goal-missed').length;
  if (missed === 0) return 'not checked';
  if (missed === unchecked.length) return missed === 1 ? 'goal missed' : 'goals missed';
  return 'not checked or missed';
}

/** "1 not checked" and what that does, for the verdict line. */
export function uncheckedTally(unchecked: readonly Unchecked[], mode: StrictMode): string {
  return `${unchecked.length} ${uncheckedNoun(unchecked)} (${modeClause(mode)})`;
}

/** The findings between rules of '!', one item each; no lines when there are none. */
export function uncheckedBlock(unchecked: readonly Unchecked[], mode: StrictMode, width = 100): string[] {
  if (unchecked.length === 0) return [];
  const lines = [
    ...wrapText(`${uncheckedNoun(unchecked).toUpperCase()} — ${modeClause(mode)}:`, width, '!! ', '!!   '),
    ...unchecked.flatMap((item) => wrapText(item.reason, width, '!!  - ', '!!    ')),
  ];
  const rule = '!'.repeat(Math.min(Math.max(...lines.map((line) => line.length)), Number.isFinite(width) ? width : 100));
  return [rule, ...lines, rule];
}

/** The findings as a markdown list under a quoted heading, for $GITHUB_STEP_SUMMARY. */
export function uncheckedMarkdown(unchecked: readonly Unchecked[], mode: StrictMode): string[] {
  if (unchecked.length === 0) return [];
  const icon = mode.strict ? '❌' : '⚠️';
  const noun = uncheckedNoun(unchecked);
  return [`${icon} **${noun[0]!.toUpperCase()}${noun.slice(1)}** — ${modeClause(mode)}:`, '', ...unchecked.map((item) => `- ${item.reason.replaceAll('\n', ' ')}`), ''];
}
