/**
 * Gate decisions, recomputed from the raw samples of each artifact: a stored
 * summary is never trusted, so a hand-edited copy is judged by its samples. Pure.
 */
import type { Artifact, CellResult, GateResult } from '../artifact/schema.ts';
import { invertInterval, judgeChange, noiseOf, worseningOf, type ChangeDecision } from '../compare/change.ts';
import { hostDifferenceSummary } from '../compare/warnings.ts';
import { changeSentence } from '../report/change-words.ts';
import { formatBound, formatRatioAgainst, formatValue } from '../report/number.ts';
import { cellMatches } from '../rig/matrix.ts';
import type { AbsoluteGate, Gate, MetricDef, RelativeGate } from '../rig/schema.ts';
import { judgedValue } from './judged-value.ts';

/** Stands in for a cell id when a gate's `where` matches no cell (reported, never a silent pass). */
export const NO_MATCHING_CELL = '(no matching cell)';

export function isRelative(gate: Gate): gate is RelativeGate {
  return 'max_ratio' in gate;
}

function describeWhere(where: Record<string, unknown> | undefined): string {
  return where ? Object.entries(where).map(([key, value]) => `${key}=${String(value)}`).join(',') : '(every cell)';
}

/** Samples of the gate's metric in a cell, or why there are none. */
export function samplesOf(cell: CellResult, metric: string, label: string): { samples: number[] } | { reason: string } {
  if (cell.status !== 'ok') return { reason: `${label} cell ${cell.status}${cell.reason ? `: ${cell.reason}` : ''}` };
  const samples = cell.metrics[metric]?.samples ?? [];
  if (samples.length === 0) return { reason: `${label} cell has no samples of ${metric}` };
  return { samples };
}

interface Context {
  def: MetricDef;
  cell: CellResult;
  /** The statistic judged (judged-value.ts): the gate's, or slope for a batched metric. */
  stat: string;
  baseline?: Artifact;
  otherHost: string | null;
}

function absolute(gate: AbsoluteGate, value: number, ctx: Context): Pick<GateResult, 'verdict' | 'detail'> {
  const show = (x: number) => formatValue(x, ctx.def.unit);
  const measured = `${ctx.stat} ${show(value)}`;
  if (gate.max !== undefined && value > gate.max) return { verdict: 'fail', detail: `${measured} > max ${show(gate.max)} → fail` };
  if (gate.min !== undefined && value < gate.min) return { verdict: 'fail', detail: `${measured} < min ${show(gate.min)} → fail` };
  const limits = [gate.min !== undefined ? `min ${show(gate.min)}` : '', gate.max !== undefined ? `max ${show(gate.max)}` : '']
    .filter(Boolean)
    .join(', ');
  return { verdict: 'pass', detail: `${measured} within ${limits} → pass` };
}

type RelativeOutcome = Pick<GateResult, 'verdict' | 'detail' | 'baseline_value' | 'ratio' | 'ratio_ci95' | 'p_value'>;

function relative(gate: RelativeGate, value: number, ctx: Context): RelativeOutcome {
  const none = { baseline_value: null, ratio: null, ratio_ci95: null, p_value: null };
  if (!ctx.baseline) {
    return { ...none, verdict: 'needs-baseline', detail: `${ctx.stat} ${formatValue(value, ctx.def.unit)}; a relative gate needs a baseline artifact (--baseline)` };
  }
  const baseCell = ctx.baseline.cells.find((cell) => cell.id === ctx.cell.id);
  if (!baseCell) return { ...none, verdict: 'skipped', detail: `cell ${ctx.cell.id} is not in the baseline` };
  const base = samplesOf(baseCell, gate.metric, 'baseline');
  if ('reason' in base) return { ...none, verdict: 'skipped', detail: base.reason };
  const baseMetric = baseCell.metrics[gate.metric]!;
  if (baseMetric.clock !== ctx.def.clock || baseMetric.unit !== ctx.def.unit) {
    return {
      ...none,
      verdict: 'skipped',
      detail: `baseline measures ${gate.metric} differently (${baseMetric.unit}, "${baseMetric.clock}" vs ${ctx.def.unit}, "${ctx.def.clock}"): not compared`,
    };
  }

  const judged = judgeChange(baseMetric, ctx.cell.metrics[gate.metric]!, { stat: gate.stat, better: ctx.def.better, alpha: gate.alpha, noise: noiseOf(ctx.def) });
  if (judged.ratio === null) {
    return { ...none, baseline_value: judged.baseline, verdict: 'skipped', detail: `ratio undefined: the baseline's ${ctx.stat} is 0` };
  }
  const lowerIsBetter = ctx.def.better === 'lower';
  const worsening = worseningOf(judged.ratio, ctx.def.better);
  const { verdict, reasoning } = relativeVerdict(judged, worsening, gate.max_ratio);
  const show = (x: number) => formatValue(x, ctx.def.unit);
  const facts = changeSentence(
    { ...judged, p: judged.p_value, candidate: show(judged.candidate), baseline: show(judged.baseline) },
    lowerIsBetter ? [gate.max_ratio] : [],
  );
  const host = ctx.otherHost ? `; baseline from another host (${ctx.otherHost})` : '';
  return {
    verdict,
    baseline_value: judged.baseline,
    ratio: worsening,
    ratio_ci95: lowerIsBetter ? judged.ratio_ci95 : invertInterval(judged.ratio_ci95),
    p_value: judged.p_value,
    detail: `${facts}${reasoning}${host}`,
  };
}

/**
 * A relative gate's verdict from the shared decision: a regression is a change
 * called `worse` whose worsening factor exceeds the bound; the reasoning, with
 * the digits that show the bound crossed or not ("1.204× > 1.2×").
 */
export function relativeVerdict(
  decision: Pick<ChangeDecision, 'change'> & { better: 'lower' | 'higher' },
  worsening: number,
  maxRatio: number,
): { verdict: 'pass' | 'fail'; reasoning: string } {
  if (decision.change !== 'worse') return { verdict: 'pass', reasoning: ' → pass' };
  const factor = `${decision.better === 'lower' ? '' : 'worsening '}${formatRatioAgainst(worsening, [maxRatio])}`;
  if (worsening > maxRatio) return { verdict: 'fail', reasoning: `; ${factor} > ${formatBound(maxRatio)} → regression` };
  return { verdict: 'pass', reasoning: `; ${factor} ≤ ${formatBound(maxRatio)} → pass` };
}

/**
 * One result per (gate, cell matching its `where`); a gate that matches no
 * cell gives one 'skipped' result. Relative gates without a baseline give
 * 'needs-baseline' (not a failure). Cells are matched to the baseline by id.
 */
export function evaluateGates(
  gates: Gate[],
  metricsDef: Record<string, MetricDef>,
  candidate: Pick<Artifact, 'cells' | 'host'>,
  baseline?: Artifact,
): GateResult[] {
  const otherHost = baseline ? hostDifferenceSummary(baseline, candidate) : null;
  const results: GateResult[] = [];
  gates.forEach((gate, index) => {
    const kind = isRelative(gate) ? 'relative' : 'absolute';
    const bound: GateResult['bound'] = isRelative(gate)
      ? { max_ratio: gate.max_ratio }
      : { ...(gate.min !== undefined && { min: gate.min }), ...(gate.max !== undefined && { max: gate.max }) };
    const head = { gate: index, kind, metric: gate.metric, stat: gate.stat } as const;
    const relativeNulls = isRelative(gate) ? { baseline_value: null, ratio: null, ratio_ci95: null, p_value: null } : {};
    const cells = candidate.cells.filter((cell) => cellMatches(cell.params, gate.where ?? {}));
    if (cells.length === 0) {
      results.push({ ...head, cell: NO_MATCHING_CELL, verdict: 'skipped', value: null, bound, ...relativeNulls, detail: `no cell matches where ${describeWhere(gate.where)}` });
      return;
    }
    for (const cell of cells) {
      const skip = (detail: string): GateResult => ({ ...head, cell: cell.id, verdict: 'skipped', value: null, bound, ...relativeNulls, detail });
      const def = metricsDef[gate.metric] ?? cell.metrics[gate.metric];
      if (!def) {
        results.push(skip(`metric ${gate.metric} is not defined by the rig`));
        continue;
      }
      const own = samplesOf(cell, gate.metric, 'candidate');
      if ('reason' in own) {
        results.push(skip(own.reason));
        continue;
      }
      const { stat, value } = judgedValue(cell.metrics[gate.metric]!, gate.stat);
      const ctx: Context = { def, cell, stat, otherHost, ...(baseline && { baseline }) };
      const outcome = isRelative(gate) ? relative(gate, value, ctx) : absolute(gate, value, ctx);
      results.push({ ...head, stat, cell: cell.id, value, bound, ...outcome });
    }
  });
  return results;
}

/** 1 when any gate failed; skipped and needs-baseline fail only in strict mode (strict.ts). */
export function gateExitCode(results: GateResult[]): 0 | 1 {
  return results.some((result) => result.verdict === 'fail') ? 1 : 0;
}
