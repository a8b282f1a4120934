import { describe, expect, it } from 'vitest';
import { microWorkload, MICRO_SAMPLE_ORDER } from '../../../runner/workloads/micro.ts';
import { seededSamples, statsSummarizeWorkload } from '../../../runner/workloads/stats-summarize.ts';
import { WorkloadError } from '../../../runner/contract/workload.ts';
import { testCell } from '../../helpers/cell-context.ts';

const metrics = { summarize_ms: { clock: 'summarize() called -> returned' } };

describe('micro workloads (tinybench)', () => {
  it('stats.summarize returns one raw sample per iteration, in ms per call', async () => {
    const { ctx, progress } = testCell({ workload: 'stats.summarize', params: { n: 200 }, sampling: { warmup: 2, iterations: 25 }, metrics });
    const result = await statsSummarizeWorkload.run(ctx);
    const samples = result.samples.summarize_ms!;
    expect(samples).toHaveLength(25);
    expect(samples.every((ms) => ms > 0 && ms < 1000)).toBe(true);
    expect(result.facts).toMatchObject({ task: 'summarize', sample_order: MICRO_SAMPLE_ORDER });
    expect(result.tools?.tinybench).toMatch(/^6\./);
    expect(progress.filter((p) => p.phase === 'warmup')).toHaveLength(2);
    expect(progress.at(-1)).toEqual({ phase: 'sample', done: 25, total: 25 });
  });

  it('uses the same seeded data every time', () => {
    expect(seededSamples(5)).toEqual(seededSamples(5));
    expect(seededSamples(5, 1)).not.toEqual(seededSamples(5));
  });

  it('extends to min_seconds but never past max_iterations', async () => {
    const { ctx } = testCell({ params: { n: 10 }, sampling: { iterations: 5, min_seconds: 30, max_iterations: 40 }, metrics });
    const result = await statsSummarizeWorkload.run(ctx);
    expect(result.samples.summarize_ms).toHaveLength(40);
  });

  it('stops at max_seconds and says so', async () => {
    const slow = microWorkload({ name: 'test.slow', description: 'a slow task', tasks: () => ({ wait: () => new Promise((r) => setTimeout(r, 20)) }) });
    const { ctx } = testCell({ sampling: { iterations: 1000, max_seconds: 0.2 }, metrics });
    const result = await slow.run(ctx);
    const taken = result.samples.summarize_ms!.length;
    expect(taken).toBeGreaterThan(2);
    expect(taken).toBeLessThan(12);
    expect(result.truncated).toBe(`max_seconds (0.2 s) reached after ${taken} of 1000 samples`);
  });

  it('picks the task from params.task and checks it', async () => {
    const two = microWorkload({ name: 'test.two', description: 'two tasks', tasks: () => ({ a: () => 1, b: () => 2 }) });
    expect(two.validateParams!({})).toEqual(['params.task: expected one of a, b, found nothing']);
    expect(two.validateParams!({ task: 'b' })).toEqual([]);
    const { ctx } = testCell({ params: { task: 'b' }, sampling: { iterations: 4 }, metrics });
    expect((await two.run(ctx)).facts?.task).toBe('b');
    expect(statsSummarizeWorkload.validateParams!({ n: 0 })).toEqual(['params.n: expected an integer from 1 to 1000000, found 0']);
  });

  it('fails the cell when the task throws', async () => {
    const broken = microWorkload({ name: 'test.broken', description: 'throws', tasks: () => ({ boom: () => { throw new Error('kaput'); } }) });
    const { ctx } = testCell({ sampling: { iterations: 3 }, metrics });
    await expect(broken.run(ctx)).rejects.toThrow(new WorkloadError('task boom threw: kaput'));
  });
});
