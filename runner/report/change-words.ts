/**
 * One wording for a change between two sample sets (runner/compare/change.ts),
 * shared by `rigor compare`, `rigor gate` (cross-run and paired), the markdown
 * summary and the site: the same ratio with the same digits, the same CI and p,
 * the same verdict word and the same reason for `same`.
 */
import type { Change, SameReason } from '../compare/change.ts';
import { formatInterval, formatPercent, formatRatioAgainst, pClause } from './number.ts';

export interface ChangeWords {
  stat: string;
  /** B/A of the statistic; null when the baseline's is 0. */
  ratio: number | null;
  ratio_ci95: { low: number; high: number } | null;
  change: Change;
  reason: SameReason | null;
  alpha: number;
  noise: number;
}

/** The bounds a change is judged against (the noise threshold either side of 1), plus any gate bound. */
export function changeBounds(words: Pick<ChangeWords, 'noise'>, more: readonly number[] = []): number[] {
  return [1 - words.noise, 1 + words.noise, ...more];
}

/** "1.204×": B/A with the digits that tell it apart from the noise threshold and the bounds given. */
export function changeRatio(words: Pick<ChangeWords, 'ratio' | 'noise'>, bounds: readonly number[] = []): string {
  return words.ratio === null ? '—' : formatRatioAgainst(words.ratio, changeBounds(words, bounds));
}

/** "1.204× [1.19–1.22]". */
export function changeRatioWithCI(words: Pick<ChangeWords, 'ratio' | 'ratio_ci95' | 'noise'>, bounds: readonly number[] = []): string {
  const ratio = changeRatio(words, bounds);
  return words.ratio !== null && words.ratio_ci95 ? `${ratio} [${formatInterval(words.ratio_ci95)}]` : ratio;
}

/** Why a change is `same`, in a few words. */
export function sameReasonText(reason: SameReason, words: Pick<ChangeWords, 'alpha' | 'noise' | 'stat'>): string {
  switch (reason) {
    case 'not significant':
      return `p ≥ ${words.alpha}`;
    case 'within noise':
      return `within ±${formatPercent(words.noise)} noise`;
    case 'directions disagree':
      return `${words.stat} and samples moved opposite ways`;
  }
}

/** "better", "worse", "same (p ≥ 0.05)", "same (within ±2% noise)". */
export function verdictText(words: Pick<ChangeWords, 'change' | 'reason' | 'alpha' | 'noise' | 'stat'>): string {
  return words.change === 'same' && words.reason ? `same (${sameReasonText(words.reason, words)})` : words.change;
}

/**
 * "median 12.0 ms vs 10.0 ms: 1.204× [1.19–1.22], p < 0.0001 → worse": B (the
 * candidate) first, as the ratio divides. `p` is the p the decision used
 * (Holm-adjusted for a paired gate); `test` names it when given.
 */
export function changeSentence(
  words: ChangeWords & { p: number; candidate: string; baseline: string; test?: string },
  bounds: readonly number[] = [],
): string {
  const test = words.test ? ` (${words.test})` : '';
  return `${words.stat} ${words.candidate} vs ${words.baseline}: ${changeRatioWithCI(words, bounds)}, ${pClause(words.p)}${test} → ${verdictText(words)}`;
}
