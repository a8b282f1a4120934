/** The ratios an artifact carries and the gate verdicts judged on it, with every number sourced. Pure. */
import type { GateResult } from '../../artifact/schema.ts';
import type { Stat } from '../../rig/schema.ts';
import type { ArtifactInput } from './artifact-ref.ts';
import { pointerOf } from './json-pointer.ts';
import type { Shown } from './source.ts';

export interface RatioRow {
  name: string;
  /** What is divided: medians, or slopes when both sides are batched. */
  stat: 'median' | 'slope';
  of: { cell: string; metric: string; value: Shown | null };
  to: { cell: string; metric: string; value: Shown | null };
  ratio: Shown | null;
  ci: { low: Shown; high: Shown } | null;
  goal: Shown | null;
  goalMet: boolean | null;
  detail: string;
}

export interface GateRow {
  index: number;
  kind: string;
  metric: string;
  stat: string;
  cell: string;
  verdict: string;
  value: Shown | null;
  /** The baseline's value of the statistic, for a relative gate judged across runs. */
  baseline: Shown | null;
  bounds: { name: string; bound: Shown }[];
  detail: string;
}

export type VerdictCounts = Record<'pass' | 'fail' | 'needs-baseline' | 'skipped', number>;

export function ratioRows(input: ArtifactInput): RatioRow[] {
  const ratio = (value: number, ...tokens: (string | number)[]): Shown => ({
    artifactPath: input.path,
    pointer: pointerOf('ratios', ...tokens),
    value,
    unit: '',
    format: 'ratio',
  });
  return (input.artifact.ratios ?? []).map((row, i) => {
    const stat = row.stat ?? 'median';
    const side = (which: 'of' | 'to') => {
      const value = stat === 'slope' ? row[which].slope : row[which].median;
      return {
        cell: row[which].cell,
        metric: row[which].metric,
        value:
          value === null || value === undefined
            ? null
            : { artifactPath: input.path, pointer: pointerOf('ratios', i, which, stat), value, unit: row[which].unit, format: 'value' as const },
      };
    };
    return {
      name: row.name,
      stat,
      of: side('of'),
      to: side('to'),
      ratio: row.ratio === null ? null : ratio(row.ratio, i, 'ratio'),
      ci: row.ci95 ? { low: ratio(row.ci95.low, i, 'ci95', 'low'), high: ratio(row.ci95.high, i, 'ci95', 'high') } : null,
      goal: row.goal ? ratio(row.goal.max, i, 'goal', 'max') : null,
      goalMet: row.goal_met ?? null,
      detail: row.detail,
    };
  });
}

/**
 * The gate results judged on `input` (rig-view.ts), each number linked to what
 * it is computed from: the samples of the cell (or its stored slope), the
 * bound in the rig definition the artifact carries, and the baseline's samples.
 */
export function gateRows(input: ArtifactInput, results: readonly GateResult[], baseline: ArtifactInput | null): GateRow[] {
  const definition = input.artifact.rig.definition;
  return results.map((result) => {
    const unit = definition.metrics[result.metric]?.unit ?? '';
    const bounds = (['min', 'max', 'max_ratio'] as const)
      .filter((name) => result.bound[name] !== undefined)
      .map((name) => ({
        name,
        bound: {
          artifactPath: input.path,
          pointer: pointerOf('rig', 'definition', 'gates', result.gate, name),
          value: result.bound[name]!,
          unit: name === 'max_ratio' ? '' : unit,
          format: name === 'max_ratio' ? ('ratio' as const) : ('value' as const),
        },
      }));
    const judged = (side: ArtifactInput | null, value: number | null | undefined): Shown | null =>
      side && value !== null && value !== undefined ? sourcedStat(side, result, value, unit) : null;
    return {
      index: result.gate,
      kind: result.kind,
      metric: result.metric,
      stat: result.stat,
      cell: result.cell,
      verdict: result.verdict,
      value: judged(input, result.value),
      baseline: judged(result.method === 'paired' ? null : baseline, result.baseline_value),
      bounds,
      detail: result.detail,
    };
  });
}

/**
 * A statistic judged from a cell's metric (a gate's value, a compare side),
 * linked to the samples it is the statistic of, or to the stored slope of a
 * batched metric; null when the artifact has no such cell.
 */
export function sourcedStat(
  side: ArtifactInput,
  /** stat: a GateResult's is a string; anything but 'slope' is a Stat. */
  at: { cell: string; metric: string; stat: string },
  value: number,
  unit: string,
): Shown | null {
  const index = side.artifact.cells.findIndex((cell) => cell.id === at.cell);
  if (index < 0) return null;
  const pointer = (...tail: string[]) => pointerOf('cells', index, 'metrics', at.metric, ...tail);
  if (at.stat === 'slope') return { artifactPath: side.path, pointer: pointer('slope', 'estimate'), value, unit, format: 'value' };
  return { artifactPath: side.path, pointer: pointer('samples'), value, unit, format: 'value', derived: at.stat as Stat };
}

export function verdictCounts(results: readonly GateResult[]): VerdictCounts {
  const counts: VerdictCounts = { pass: 0, fail: 0, 'needs-baseline': 0, skipped: 0 };
  for (const gate of results) counts[gate.verdict] += 1;
  return counts;
}
