/**
 * The paired gate of an A/B artifact: base and head were measured side by
 * side in shuffled rounds, so each round is one paired observation and drift
 * between rounds cancels. Pure; recomputed from the raw samples and their rounds.
 *
 * The rule, per (relative gate, cell):
 * - per round r: x_r = stat(head's samples in r) and y_r = stat(base's);
 *   the worsening ratio ρ_r = x_r / y_r (lower is better) or y_r / x_r (higher is better);
 * - the estimate ρ̂ = median over rounds of ρ_r, its 95% CI a percentile
 *   bootstrap of that median over rounds (runner/stats/bootstrap.ts);
 * - p from the two-sided Wilcoxon signed-rank test on ln ρ_r (runner/stats/wilcoxon.ts);
 * - p̃ from Holm's correction over every paired comparison of this gate run (runner/stats/holm.ts);
 * - regression ⇔ the shared rule (runner/compare/change.ts) calls the change
 *   worse — p̃ < alpha and |ρ̂ − 1| beyond the metric's noise threshold, on
 *   head/base — and ρ̂ > max_ratio.
 * Absolute gates judge the head side alone, as in a plain run.
 */
import type { Artifact, CellResult, GateResult } from '../artifact/schema.ts';
import { decideChange, invertInterval, noiseOf } from '../compare/change.ts';
import { changeSentence } from '../report/change-words.ts';
import { formatValue, formatP } from '../report/number.ts';
import { cellMatches } from '../rig/matrix.ts';
import type { Gate, MetricDef, RelativeGate, Stat } from '../rig/schema.ts';
import { bootstrapCI, median, type Interval } from '../stats/index.ts';
import { judgedValue } from './judged-value.ts';
import { holmAdjust } from '../stats/holm.ts';
import { wilcoxonSignedRank } from '../stats/wilcoxon.ts';
import { evaluateGates, isRelative, NO_MATCHING_CELL, relativeVerdict, samplesOf } from './evaluate.ts';

export const PAIRED_TEST = 'Wilcoxon signed-rank on per-round log ratios';
export const PAIRED_CORRECTION = 'Holm';

export interface RoundSamples {
  samples: readonly number[];
  /** The round of each sample, parallel to samples. */
  rounds: readonly number[];
  /** A batched metric's calls per batch, parallel to samples: a round is then judged by its slope. */
  batch_iterations?: readonly number[];
}

export interface PairedComparison {
  /** ρ̂: the median per-round worsening ratio (> 1 is worse). */
  ratio: number;
  ci95: Interval | null;
  /** Two-sided Wilcoxon signed-rank p on ln ρ_r. */
  p: number;
  /** Rounds in which both sides had samples. */
  rounds: number;
  headValue: number;
  baseValue: number;
}

/** The value each round is judged by, by round: the statistic of its samples, or a batched metric's slope over its batches (as the cross-run gate judges it). */
export function perRound(side: RoundSamples, stat: Stat): Map<number, number> {
  const byRound = new Map<number, number[]>();
  side.rounds.forEach((round, i) => (byRound.get(round) ?? byRound.set(round, []).get(round)!).push(i));
  const pick = (indices: number[], list: readonly number[]) => indices.map((i) => list[i]!);
  return new Map(
    [...byRound].map(([round, indices]) => [
      round,
      judgedValue({ samples: pick(indices, side.samples), ...(side.batch_iterations ? { batch_iterations: pick(indices, side.batch_iterations) } : {}) }, stat).value,
    ]),
  );
}

export function pairedComparison(base: RoundSamples, head: RoundSamples, stat: Stat, better: 'lower' | 'higher'): PairedComparison | { reason: string } {
  if (base.rounds.length !== base.samples.length || head.rounds.length !== head.samples.length) {
    return { reason: 'samples carry no rounds: not an interleaved A/B measurement' };
  }
  const baseRounds = perRound(base, stat);
  const headRounds = perRound(head, stat);
  const ratios: number[] = [];
  for (const [round, x] of headRounds) {
    const y = baseRounds.get(round);
    if (y === undefined) continue;
    const [numerator, denominator] = better === 'lower' ? [x, y] : [y, x];
    if (!(numerator > 0 && denominator > 0)) return { reason: `round ${round}: a ${stat} of ${numerator === 0 || denominator === 0 ? '0' : 'a negative value'} has no ratio` };
    ratios.push(numerator / denominator);
  }
  if (ratios.length < 2) return { reason: `a paired gate needs at least 2 rounds with both sides measured, found ${ratios.length}` };
  return {
    ratio: median(ratios),
    ci95: bootstrapCI(ratios, 'median'),
    p: wilcoxonSignedRank(ratios.map(Math.log)).p,
    rounds: ratios.length,
    headValue: judgedValue(measured(head), stat).value,
    baseValue: judgedValue(measured(base), stat).value,
  };
}

/** Samples and rounds of a metric in an ok cell, or why there are none. */
function measured(side: RoundSamples): Parameters<typeof judgedValue>[0] {
  return { samples: side.samples, ...(side.batch_iterations ? { batch_iterations: side.batch_iterations } : {}) };
}

function roundSamplesOf(cell: CellResult | undefined, metric: string, side: string): RoundSamples | { reason: string } {
  if (!cell) return { reason: `cell is not on the ${side} side` };
  const own = samplesOf(cell, metric, side);
  if ('reason' in own) return own;
  const { rounds = [], batch_iterations } = cell.metrics[metric]!;
  return { samples: own.samples, rounds, ...(batch_iterations ? { batch_iterations } : {}) };
}

/**
 * Every gate of the rig on an A/B artifact: relative gates paired per cell
 * (head against base), corrected together; absolute gates on the head side.
 */
export function evaluatePairedGates(
  gates: readonly Gate[],
  metricsDef: Record<string, MetricDef>,
  artifact: Pick<Artifact, 'cells' | 'host'> & { ab: Pick<NonNullable<Artifact['ab']>, 'base_cells'> },
): GateResult[] {
  const results: GateResult[] = [];
  // Paired results waiting for the correction: index into results, and the raw p.
  const family: { at: number; p: number; comparison: PairedComparison; gate: RelativeGate; def: MetricDef }[] = [];
  gates.forEach((gate, index) => {
    if (!isRelative(gate)) {
      for (const result of evaluateGates([gate], metricsDef, artifact)) results.push({ ...result, gate: index });
      return;
    }
    const head = { gate: index, kind: 'relative', metric: gate.metric, stat: gate.stat, bound: { max_ratio: gate.max_ratio } } as const;
    const none = { value: null, baseline_value: null, ratio: null, ratio_ci95: null, p_value: null, method: 'paired' as const };
    const cells = artifact.cells.filter((cell) => cellMatches(cell.params, gate.where ?? {}));
    if (cells.length === 0) {
      results.push({ ...head, ...none, cell: NO_MATCHING_CELL, verdict: 'skipped', detail: 'no cell matches the gate' });
      return;
    }
    for (const cell of cells) {
      const def = metricsDef[gate.metric] ?? cell.metrics[gate.metric];
      const headSide = roundSamplesOf(cell, gate.metric, 'head');
      const baseSide = roundSamplesOf(artifact.ab.base_cells.find((c) => c.id === cell.id), gate.metric, 'base');
      const skip = (detail: string) => results.push({ ...head, ...none, cell: cell.id, verdict: 'skipped', detail });
      if (!def) {
        skip(`metric ${gate.metric} is not defined by the rig`);
        continue;
      }
      if ('reason' in headSide || 'reason' in baseSide) {
        skip('reason' in headSide ? headSide.reason : (baseSide as { reason: string }).reason);
        continue;
      }
      const comparison = pairedComparison(baseSide, headSide, gate.stat, def.better);
      if ('reason' in comparison) {
        results.push({ ...head, ...none, cell: cell.id, verdict: 'skipped', detail: comparison.reason });
        continue;
      }
      family.push({ at: results.length, p: comparison.p, comparison, gate, def });
      results.push({ ...head, ...none, cell: cell.id, verdict: 'pass', detail: '' });
    }
  });

  const adjusted = holmAdjust(family.map((entry) => entry.p));
  family.forEach(({ at, comparison, gate, def }, i) => {
    const pAdjusted = adjusted[i]!;
    const show = (x: number) => formatValue(x, def.unit);
    const { ratio } = comparison;
    // The shared rule and words (runner/compare/change.ts) take B/A: head over base.
    const lowerIsBetter = def.better === 'lower';
    const headOverBase = lowerIsBetter ? ratio : 1 / ratio;
    const noise = noiseOf(def);
    const decision = decideChange({ ratio: headOverBase, p: pAdjusted, alpha: gate.alpha, noise, better: def.better });
    const { verdict, reasoning } = relativeVerdict({ ...decision, better: def.better }, ratio, gate.max_ratio);
    const facts = changeSentence(
      {
        ...decision,
        stat: gate.stat,
        ratio: headOverBase,
        ratio_ci95: lowerIsBetter ? comparison.ci95 : invertInterval(comparison.ci95),
        alpha: gate.alpha,
        noise,
        p: pAdjusted,
        candidate: show(comparison.headValue),
        baseline: `base ${show(comparison.baseValue)}`,
        test: `median of per-round ratios; Wilcoxon p = ${formatP(comparison.p)} over ${comparison.rounds} rounds, ${PAIRED_CORRECTION}-adjusted`,
      },
      lowerIsBetter ? [gate.max_ratio] : [],
    );
    results[at] = {
      ...results[at]!,
      verdict,
      value: comparison.headValue,
      baseline_value: comparison.baseValue,
      ratio,
      ratio_ci95: comparison.ci95,
      p_value: comparison.p,
      test: PAIRED_TEST,
      p_adjusted: pAdjusted,
      correction: PAIRED_CORRECTION,
      rounds: comparison.rounds,
      detail: `${facts}${reasoning}`,
    };
  });
  return results;
}
