import { describe, expect, it } from 'vitest';
import { batchUnit, linearBatches, microWorkload, MICRO_CLOCK } from '../../../runner/workloads/micro.ts';
import { seededSamples, statsSummarizeWorkload } from '../../../runner/workloads/stats-summarize.ts';
import { WorkloadError } from '../../../runner/contract/workload.ts';
import { budgetReached } from '../../../runner/sampling/loop.ts';
import { summarizeBatches } from '../../../runner/stats/slope.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../helpers/param-problems.ts';

const metrics = { summarize_ms: { clock: 'summarize() called -> returned' } };

/** A task whose cost is set by construction: a loop of `n` steps, its result returned so it is not dropped. */
function loopOf(n: number): () => number {
  return () => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + i * 7) | 0;
    return acc;
  };
}

describe('linear batches', () => {
  it('batch i runs i·d calls', () => {
    expect(linearBatches(4, 3)).toEqual([3, 6, 9, 12]);
  });

  it('d outlasts 1000 clock steps, or fills min_seconds over all the batches when that needs more', () => {
    // 1000 × 30 ns / 100 ns a call = 300 calls.
    expect(batchUnit(100, 30, 10, 0)).toBe(300);
    // 10 batches are 55·d calls: 1 s / (55 × 100 ns) = 181818.2 → 181819.
    expect(batchUnit(100, 30, 10, 1)).toBe(181819);
    // A call longer than the threshold: one call a step.
    expect(batchUnit(5e6, 30, 10, 0)).toBe(1);
  });
});

describe('micro workloads (batches)', () => {
  it('stats.summarize takes one raw sample per batch, batches growing by d, in ms per call', async () => {
    const { ctx, progress } = testCell({ workload: 'stats.summarize', params: { n: 200 }, sampling: { warmup: 2, iterations: 25 }, metrics });
    const result = await statsSummarizeWorkload.run(ctx);
    const samples = result.samples.summarize_ms!;
    const sizes = result.batch_iterations!.summarize_ms!;
    const d = result.facts!.batch_unit as number;
    expect(samples).toHaveLength(25);
    expect(sizes).toEqual(linearBatches(25, d));
    expect(samples.every((ms) => ms > 0)).toBe(true);
    expect(result.facts).toMatchObject({ task: 'summarize', clock: MICRO_CLOCK, async: false });
    expect(result.facts!.clock_resolution_ns).toBeGreaterThan(0);
    expect(result.truncated).toBeUndefined();
    expect(progress.filter((p) => p.phase === 'warmup')).toEqual([{ phase: 'warmup', done: 2, total: 2 }]);
    expect(progress.at(-1)).toEqual({ phase: 'sample', done: 25, total: 25 });
  });

  it('fits a larger slope to a loop four times as long', async () => {
    const loops = microWorkload({ name: 'test.loops', description: 'loops of set length', tasks: () => ({ once: loopOf(2000), four: loopOf(8000) }) });
    const slope = async (task: string) => {
      const { ctx } = testCell({ params: { task }, sampling: { warmup: 200, iterations: 30 }, metrics });
      const result = await loops.run(ctx);
      expect(result.batch_iterations!.summarize_ms).toEqual(linearBatches(30, result.facts!.batch_unit as number));
      return summarizeBatches(result.batch_iterations!.summarize_ms!, result.samples.summarize_ms!)!.estimate;
    };
    const [once, four] = [await slope('once'), await slope('four')];
    expect(four).toBeGreaterThan(once);
  });

  it('uses the same seeded data every time', () => {
    expect(seededSamples(5)).toEqual(seededSamples(5));
    expect(seededSamples(5, 1)).not.toEqual(seededSamples(5));
  });

  it('awaits an asynchronous task call by call', async () => {
    let calls = 0;
    const later = microWorkload({ name: 'test.async', description: 'async', tasks: () => ({ tick: async () => ++calls }) });
    const { ctx } = testCell({ sampling: { iterations: 5 }, metrics });
    const result = await later.run(ctx);
    const sizes = result.batch_iterations!.summarize_ms!;
    expect(result.facts!.async).toBe(true);
    expect(sizes).toHaveLength(5);
    // Every call ran: the first, the calibration rounds (1, 2, 4, ...) and the batches.
    expect(calls).toBeGreaterThanOrEqual(1 + 1 + sizes.reduce((a, b) => a + b, 0));
  });

  it('stops at max_seconds after the batch in flight and says so', async () => {
    const slow = microWorkload({ name: 'test.slow', description: 'a slow task', tasks: () => ({ wait: () => new Promise((r) => setTimeout(r, 20)) }) });
    const { ctx } = testCell({ sampling: { iterations: 1000, max_seconds: 0.2 }, metrics });
    const result = await slow.run(ctx);
    const taken = result.samples.summarize_ms!.length;
    expect(taken).toBeLessThan(1000);
    expect(result.batch_iterations!.summarize_ms).toHaveLength(taken);
    expect(result.truncated).toBe(budgetReached(0.2, taken, 1000, 'batches'));
  });

  it('stops on an interrupt and keeps the batches taken', async () => {
    let calls = 0;
    const { ctx, abort } = testCell({ sampling: { iterations: 1000 }, metrics });
    const interrupted = microWorkload({
      name: 'test.interrupted',
      description: 'aborts its own cell after a while',
      tasks: () => ({ count: () => (++calls === 50_000 ? abort() : calls) }),
    });
    const result = await interrupted.run(ctx);
    const taken = result.samples.summarize_ms!.length;
    expect(taken).toBeLessThan(1000);
    expect(result.truncated).toBe('interrupted');
  });

  it('picks the task from params.task and checks it', async () => {
    const two = microWorkload({ name: 'test.two', description: 'two tasks', taskNames: ['a', 'b'], tasks: () => ({ a: () => 1, b: () => 2 }) });
    expect(two.batched).toBe(true);
    expect(paramProblemsOf(two, {})).toEqual(['params.task: expected one of a, b, found nothing']);
    expect(paramProblemsOf(two, { task: 'b' })).toEqual([]);
    const { ctx } = testCell({ params: { task: 'b' }, sampling: { iterations: 4 }, metrics });
    expect((await two.run(ctx)).facts?.task).toBe('b');
    expect(paramProblemsOf(statsSummarizeWorkload, { n: 0 })).toEqual(['params.n: expected a whole number of samples from 1 to 1000000, found 0']);
    expect(paramProblemsOf(statsSummarizeWorkload, { size: 10 })).toEqual([
      'params.size: expected a parameter of stats.summarize (allowed: n, task), found unknown parameter "size"',
    ]);
  });

  it('fails the cell when the task throws', async () => {
    const broken = microWorkload({ name: 'test.broken', description: 'throws', tasks: () => ({ boom: () => { throw new Error('kaput'); } }) });
    const { ctx } = testCell({ sampling: { iterations: 3 }, metrics });
    await expect(broken.run(ctx)).rejects.toThrow(WorkloadError);
    await expect(broken.run(ctx)).rejects.toThrow(/^task boom threw: kaput$/);
  });

  it('fails the cell when a call takes longer than timeout_s', async () => {
    const slow = microWorkload({ name: 'test.timeout', description: 'sleeps', tasks: () => ({ nap: () => new Promise((r) => setTimeout(r, 50)) }) });
    const { ctx } = testCell({ sampling: { iterations: 3, timeout_s: 0.01 }, metrics });
    await expect(slow.run(ctx)).rejects.toThrow(/^the first call of nap took \d+\.\d ms a call, longer than timeout_s \(0\.01 s\)$/);
  });
});
