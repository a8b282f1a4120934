/** The ratios and gate verdicts an artifact carries, with every number sourced. Pure. */
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

export function gateRows(input: ArtifactInput): GateRow[] {
  const metrics = input.artifact.rig.definition.metrics;
  return input.artifact.gates.map((gate, i) => {
    const unit = metrics[gate.metric]?.unit ?? '';
    const shown = (value: number, format: Shown['format'], ...tokens: (string | number)[]): Shown => ({
      artifactPath: input.path,
      pointer: pointerOf('gates', i, ...tokens),
      value,
      unit: format === 'ratio' ? '' : unit,
      format,
    });
    const bounds = (['min', 'max', 'max_ratio'] as const)
      .filter((name) => gate.bound[name] !== undefined)
      .map((name) => ({ name, bound: shown(gate.bound[name]!, name === 'max_ratio' ? 'ratio' : 'value', 'bound', name) }));
    return {
      index: gate.gate,
      kind: gate.kind,
      metric: gate.metric,
      stat: gate.stat,
      cell: gate.cell,
      verdict: gate.verdict,
      value: gate.value === null ? null : shown(gate.value, 'value', 'value'),
      bounds,
      detail: gate.detail,
    };
  });
}

export function verdictCounts(input: ArtifactInput): VerdictCounts {
  const counts: VerdictCounts = { pass: 0, fail: 0, 'needs-baseline': 0, skipped: 0 };
  for (const gate of input.artifact.gates) counts[gate.verdict] += 1;
  return counts;
}
