import { describe, expect, it } from 'vitest';
import { WorkloadError, type WorkloadResult } from '../../../runner/contract/workload.ts';
import { runRounds, SlotUnusable, type RoundSlot } from '../../../runner/interleave/rounds.ts';
import { planRounds } from '../../../runner/interleave/schedule.ts';

/** A slot that records every take in a shared log and returns k samples numbered by take. */
function slot(key: string, log: string[], opts: { failAt?: number; unusable?: boolean } = {}): RoundSlot {
  let takes = 0;
  return {
    key,
    warmup: 2,
    take: async (count, warmup): Promise<WorkloadResult> => {
      log.push(`${key}:${count}+${warmup}`);
      if (opts.unusable) throw new WorkloadError('program not found');
      takes++;
      if (opts.failAt === takes) throw new WorkloadError('exit 3', { samples: { t: [99] } });
      return { samples: { t: Array.from({ length: count }, () => takes) } };
    },
  };
}

describe('runRounds', () => {
  it('warms each slot up once, then takes k per slot in each round in the planned order, tagging rounds', async () => {
    const log: string[] = [];
    const plan = planRounds([{ key: 'a', iterations: 6 }, { key: 'b', iterations: 6 }], { seed: 5, rounds: 3 });
    const outcome = await runRounds([slot('a', log), slot('b', log)], plan, { signal: new AbortController().signal });
    // Warmup round: one kept-and-discarded take with the rest of the warmup before it.
    expect(log.slice(0, 2).sort()).toEqual(['a:1+1', 'b:1+1']);
    expect(log.slice(2)).toEqual(plan.order.flat().map((key) => `${key}:2+0`));
    expect(outcome.roundsDone).toBe(3);
    expect(outcome.slots.get('a')!.rounds.t).toEqual([0, 0, 1, 1, 2, 2]);
    expect(outcome.slots.get('a')!.samples.t).toHaveLength(6);
  });

  it('ends a failing slot with its partial samples and goes on with the others', async () => {
    const log: string[] = [];
    const plan = planRounds([{ key: 'a', iterations: 3 }, { key: 'b', iterations: 3 }], { seed: 5, rounds: 3 });
    const outcome = await runRounds([slot('a', log, { failAt: 3 }), slot('b', log)], plan, { signal: new AbortController().signal });
    expect(outcome.slots.get('a')!.failed).toBe('exit 3');
    // take 1 was the warmup; take 2 kept 2; take 3 failed with a partial 99.
    expect(outcome.slots.get('a')!.samples.t).toEqual([2, 99]);
    expect(outcome.slots.get('b')!.samples.t).toHaveLength(3);
  });

  it('throws SlotUnusable naming the slot when its warmup fails, unless told to drop it', async () => {
    const plan = planRounds([{ key: 'a', iterations: 2 }, { key: 'b', iterations: 2 }], { seed: 1 });
    await expect(runRounds([slot('a', []), slot('b', [], { unusable: true })], plan, { signal: new AbortController().signal })).rejects.toThrow(SlotUnusable);
    const dropped = await runRounds([slot('a', []), slot('b', [], { unusable: true })], plan, { signal: new AbortController().signal, dropUnusable: true });
    expect(dropped.slots.get('b')!.failed).toBe('program not found');
    expect(dropped.slots.get('a')!.samples.t).toHaveLength(2);
  });

  it('stops at the end of the round in which it was interrupted, saying so', async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const a = slot('a', log);
    const interrupting: RoundSlot = { ...a, take: async (count, warmup, signal) => {
      const result = await a.take(count, warmup, signal);
      if (log.length === 4) controller.abort();
      return result;
    } };
    const plan = planRounds([{ key: 'a', iterations: 10 }], { seed: 1, rounds: 10 });
    const outcome = await runRounds([interrupting], plan, { signal: controller.signal });
    expect(outcome.truncated).toBe('interrupted');
    expect(outcome.slots.get('a')!.samples.t).toHaveLength(3);
    // Rounds 0 and 1 finished; round 2 was cut by the interrupt.
    expect(outcome.roundsDone).toBe(2);
  });
});
