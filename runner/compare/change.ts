/**
 * The one rule that calls a change between two sample sets better, worse or
 * same, used by `rigor compare`, `rigor gate` (cross-run and paired), their
 * markdown and the site. Pure.
 *
 * A change is better or worse only when all three hold:
 * - it is significant: p < alpha;
 * - it is larger than the metric's noise threshold: |B/A − 1| > noise, B/A the
 *   ratio of the statistic compared (criterion.rs's noise threshold, a minimum
 *   effect size);
 * - the statistic and the test agree on its direction.
 * Otherwise it is `same`, with the reason.
 */
import type { MetricResult } from '../artifact/schema.ts';
import { judgedRatioCI, judgedValue } from '../gate/judged-value.ts';
import type { MetricDef, Stat } from '../rig/schema.ts';
import { mannWhitneyUOfSorted, sortedAscending, statOfSamples, type Interval } from '../stats/index.ts';
import { assertFiniteSamples } from '../stats/finite.ts';
import { shiftOf } from './shift.ts';

export type Change = 'better' | 'worse' | 'same';

/** Why a change is `same`: p ≥ alpha, inside the noise threshold, or the statistic and the test pointing opposite ways. */
export type SameReason = 'not significant' | 'within noise' | 'directions disagree';

/** The default noise threshold: 2% for a timed metric, 0 for a counted one (a count does not drift with the host). */
export const DEFAULT_NOISE = { timed: 0.02, counted: 0 } as const;

/** The noise threshold of a metric: its rig's `noise`, else the default of its kind. */
export function noiseOf(def: Pick<MetricDef, 'noise' | 'kind'>): number {
  return def.noise ?? DEFAULT_NOISE[def.kind ?? 'timed'];
}

export interface ChangeDecision {
  change: Change;
  /** Set when change is `same`. */
  reason: SameReason | null;
}

export interface DecisionInput {
  /** B/A, candidate over baseline, of the statistic compared; null when A's is 0. */
  ratio: number | null;
  p: number;
  alpha: number;
  noise: number;
  better: 'lower' | 'higher';
  /** Which way the test saw B lie from A (shift.ts); omitted when the test has no direction of its own (paired: it tests ln ratio). */
  shift?: -1 | 0 | 1;
}

export function decideChange(input: DecisionInput): ChangeDecision {
  if (!(input.p < input.alpha)) return { change: 'same', reason: 'not significant' };
  // ratio − 1 is inexact in floating point (1.02 − 1 > 0.02): a change at the threshold is within it.
  if (input.ratio !== null && Math.abs(input.ratio - 1) <= input.noise + 1e-12) return { change: 'same', reason: 'within noise' };
  const byRatio = input.ratio === null ? null : Math.sign(input.ratio - 1);
  const direction = byRatio ?? input.shift ?? 0;
  if (direction === 0 || (input.shift !== undefined && byRatio !== null && input.shift !== byRatio)) {
    return { change: 'same', reason: 'directions disagree' };
  }
  const lower = direction < 0;
  return { change: lower === (input.better === 'lower') ? 'better' : 'worse', reason: null };
}

/** B/A as a worsening factor, > 1 worse: itself when lower is better, its inverse when higher is. */
export function worseningOf(ratio: number, better: 'lower' | 'higher'): number {
  return better === 'lower' ? ratio : 1 / ratio;
}

/** An interval of a ratio, inverted (A/B from B/A); null when it reaches 0 or below. */
export function invertInterval(interval: Interval | null): Interval | null {
  if (!interval || interval.low <= 0) return null;
  return { low: 1 / interval.high, high: 1 / interval.low };
}

/** The cross-run test, by name. */
export const CROSS_RUN_TEST = 'Mann-Whitney U';

/** Two sample sets of one metric judged: the numbers every output shows for the pair, and the decision. */
export interface ChangeJudgement extends ChangeDecision {
  /** The statistic compared: the one asked for, or `slope` when both sides are batched. */
  stat: Stat | 'slope';
  baseline: number;
  candidate: number;
  /** candidate / baseline (B/A) of the statistic; null when the baseline's is 0. */
  ratio: number | null;
  /** Seeded bootstrap 95% CI of B/A; null for a statistic the bootstrap does not support. */
  ratio_ci95: Interval | null;
  /** Two-sided Mann-Whitney U on the raw samples (a batched metric's batches, per call). */
  p_value: number;
  test: typeof CROSS_RUN_TEST;
  alpha: number;
  noise: number;
  better: 'lower' | 'higher';
}

type Measured = Pick<MetricResult, 'samples' | 'batch_iterations'>;

/** B (candidate) against A (baseline), both with samples. */
export function judgeChange(
  baseline: Measured,
  candidate: Measured,
  opts: { stat: Stat; better: 'lower' | 'higher'; alpha: number; noise: number },
): ChangeJudgement {
  assertFiniteSamples(baseline.samples, 'baseline');
  assertFiniteSamples(candidate.samples, 'candidate');
  if (baseline.samples.length === 0 || candidate.samples.length === 0) {
    throw new RangeError(`judgeChange: expected two non-empty samples, found sizes ${baseline.samples.length} and ${candidate.samples.length}`);
  }
  // Each side sorted once, for its statistic, the test and the bootstrap (a million samples take ~0.1 s to sort).
  const sorted = { baseline: sortedAscending(baseline.samples), candidate: sortedAscending(candidate.samples) };
  const a = judgedValue(baseline, opts.stat, sorted.baseline);
  const b = judgedValue(candidate, opts.stat, sorted.candidate);
  // One side batched and the other not (the rig changed): compare like with like, the statistic of the samples.
  const mixed = (a.stat === 'slope') !== (b.stat === 'slope');
  const stat = mixed ? opts.stat : a.stat;
  const valueA = mixed ? statOfSamples(baseline.samples, opts.stat, sorted.baseline) : a.value;
  const valueB = mixed ? statOfSamples(candidate.samples, opts.stat, sorted.candidate) : b.value;
  const ratio = valueA === 0 ? null : valueB / valueA;
  const { u, p } = mannWhitneyUOfSorted(sorted.baseline, sorted.candidate);
  const shift = shiftOf(u, baseline.samples.length, candidate.samples.length);
  const decision = decideChange({ ratio, p, alpha: opts.alpha, noise: opts.noise, better: opts.better, shift });
  return {
    ...decision,
    stat,
    baseline: valueA,
    candidate: valueB,
    ratio,
    ratio_ci95: ratio === null ? null : judgedRatioCI(baseline, candidate, opts.stat, sorted),
    p_value: p,
    test: CROSS_RUN_TEST,
    alpha: opts.alpha,
    noise: opts.noise,
    better: opts.better,
  };
}
