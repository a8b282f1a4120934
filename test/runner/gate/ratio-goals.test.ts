import { describe, expect, it } from 'vitest';
import type { RatioResult } from '../../../runner/artifact/schema.ts';
import { describeGoal, ratioGoals, tallyGoals } from '../../../runner/gate/ratio-goals.ts';

const side = { cell: 'tool=x', metric: 'wall_ms', unit: 'ms', median: 1 };
const ratio = (name: string, value: number | null, goal?: { max: number }): RatioResult => ({
  name,
  of: side,
  to: side,
  ratio: value,
  ci95: null,
  ...(goal && { goal, goal_met: value === null ? null : value <= goal.max }),
  detail: `${name} detail`,
});

describe('ratioGoals', () => {
  it('reads the ratios that have a goal as met, missed or not computed; a ratio without a goal is no gate', () => {
    const goals = ratioGoals([ratio('met', 1.2, { max: 1.5 }), ratio('plain', 3), ratio('missed', 2, { max: 1.5 }), ratio('unmeasured', null, { max: 2 })]);
    expect(goals.map((goal) => [goal.name, goal.verdict])).toEqual([
      ['met', 'met'],
      ['missed', 'missed'],
      ['unmeasured', 'not computed'],
    ]);
    expect(describeGoal(goals[1]!)).toBe('missed ≤ 1.5×');
    expect(tallyGoals(goals)).toBe('ratio goals: 1 missed, 1 not computed, 1 met');
    expect(tallyGoals(goals.slice(0, 1))).toBe('ratio goal: 1 met');
  });

  it('is empty for an artifact written before ratios existed', () => {
    expect(ratioGoals(undefined)).toEqual([]);
    expect(tallyGoals([])).toBe('');
  });
});
