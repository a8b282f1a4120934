import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUNDS, planRounds, roundOrders } from '../../../runner/interleave/schedule.ts';

describe('planRounds', () => {
  it('defaults to min(20, most iterations) rounds and k = ⌈n / R⌉ per slot', () => {
    const plan = planRounds([{ key: 'a', iterations: 30 }, { key: 'b', iterations: 10 }], { seed: 1 });
    expect(plan.rounds).toBe(DEFAULT_ROUNDS);
    expect(plan.perRound).toEqual({ a: 2, b: 1 });
    expect(planRounds([{ key: 'a', iterations: 6 }], { seed: 1 }).rounds).toBe(6);
  });

  it('takes k per round and derives the rounds from the largest slot', () => {
    const plan = planRounds([{ key: 'a', iterations: 30 }, { key: 'b', iterations: 10 }], { seed: 1, perRound: 4 });
    expect(plan).toMatchObject({ rounds: 8, perRound: { a: 4, b: 4 } });
  });

  it('puts every slot once in every round', () => {
    const plan = planRounds(['a', 'b', 'c', 'd'].map((key) => ({ key, iterations: 5 })), { seed: 3 });
    expect(plan.order).toHaveLength(5);
    for (const order of plan.order) expect([...order].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses rounds or k that are not whole numbers >= 1', () => {
    expect(() => planRounds([{ key: 'a', iterations: 5 }], { seed: 1, rounds: 0 })).toThrow(/--rounds: expected a whole number >= 1, found 0/);
    expect(() => planRounds([{ key: 'a', iterations: 5 }], { seed: 1, perRound: 1.5 })).toThrow(/--per-round/);
  });
});

describe('roundOrders', () => {
  it('is the same for the same seed and differs for another', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(roundOrders(keys, 10, 42)).toEqual(roundOrders(keys, 10, 42));
    expect(roundOrders(keys, 10, 42)).not.toEqual(roundOrders(keys, 10, 43));
  });

  it('puts each key first about equally often (no position is favoured)', () => {
    const first = new Map<string, number>();
    for (const order of roundOrders(['a', 'b', 'c'], 3000, 9)) first.set(order[0]!, (first.get(order[0]!) ?? 0) + 1);
    // 1000 expected each; ±150 is more than 5 standard deviations (σ ≈ 26).
    for (const key of ['a', 'b', 'c']) expect(Math.abs(first.get(key)! - 1000)).toBeLessThan(150);
  });
});
