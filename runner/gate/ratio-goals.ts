/**
 * A rig's ratio goals (`ratios:` with `goal: { max }`) read as gates: each
 * goal met, missed, or not computed because a side was not measured. Pure.
 */
import type { RatioResult } from '../artifact/schema.ts';

export type GoalVerdict = 'met' | 'missed' | 'not computed';

export interface RatioGoal {
  name: string;
  max: number;
  verdict: GoalVerdict;
  ratio: number | null;
  ci95: RatioResult['ci95'];
  /** The ratio's own detail: the medians, the ratio, its CI and the goal's verdict. */
  detail: string;
}

/** The ratios that have a goal, in rig order; a ratio without one is a measurement, not a gate. */
export function ratioGoals(ratios: readonly RatioResult[] | undefined): RatioGoal[] {
  return (ratios ?? []).flatMap((ratio) => {
    if (!ratio.goal) return [];
    const verdict: GoalVerdict = ratio.goal_met === true ? 'met' : ratio.goal_met === false ? 'missed' : 'not computed';
    return [{ name: ratio.name, max: ratio.goal.max, verdict, ratio: ratio.ratio, ci95: ratio.ci95, detail: ratio.detail }];
  });
}

/** "bwrap_launcher_over_bare ≤ 1.5×". */
export function describeGoal(goal: RatioGoal): string {
  return `${goal.name} ≤ ${goal.max}×`;
}

/** "ratio goals: 1 missed, 2 met"; empty when the rig sets none. */
export function tallyGoals(goals: readonly RatioGoal[]): string {
  if (goals.length === 0) return '';
  const count = (verdict: GoalVerdict) => goals.filter((goal) => goal.verdict === verdict).length;
  const parts = (['missed', 'not computed', 'met'] as const).filter((verdict) => count(verdict) > 0).map((verdict) => `${count(verdict)} ${verdict}`);
  return `ratio goal${goals.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
