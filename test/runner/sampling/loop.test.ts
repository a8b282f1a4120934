import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runLabel, SampleTimeout, sampleLoop, sampleLoopBatched, type SampleBatch, type SampleOnce } from '../../../runner/sampling/loop.ts';
import { WorkloadError } from '../../../runner/contract/workload.ts';
import { testCell } from '../../helpers/cell-context.ts';

/** A run that takes `ms` (aborting early when its signal aborts) and records its index. */
function sleeper(ms: number, calls: number[] = []): SampleOnce {
  return async (index, signal) => {
    calls.push(index);
    await sleep(ms, undefined, { signal });
    return { v: index };
  };
}

describe('sampleLoop', () => {
  it('discards warmup runs and takes exactly `iterations` samples', async () => {
    const calls: number[] = [];
    const { ctx, progress } = testCell({ sampling: { warmup: 3, iterations: 5 } });
    const result = await sampleLoop(ctx, sleeper(0, calls));
    expect(calls).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(result.samples.v).toEqual([3, 4, 5, 6, 7]);
    expect(result.truncated).toBeUndefined();
    expect(progress.filter((p) => p.phase === 'warmup').map((p) => p.done)).toEqual([1, 2, 3]);
    expect(progress.at(-1)).toEqual({ phase: 'sample', done: 5, total: 5 });
  });

  it('takes exactly `iterations` samples with concurrency too', async () => {
    const { ctx } = testCell({ sampling: { iterations: 7, concurrency: 3 } });
    const result = await sampleLoop(ctx, sleeper(5));
    expect(result.samples.v).toHaveLength(7);
    expect(new Set(result.samples.v)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  });

  it('keeps sampling past iterations until min_seconds, bounded by max_iterations', async () => {
    const extended = testCell({ sampling: { iterations: 2, min_seconds: 0.15, max_iterations: 1000 } });
    const started = performance.now();
    const result = await sampleLoop(extended.ctx, sleeper(10));
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(result.samples.v!.length).toBeGreaterThan(5);
    expect(result.samples.v!.length).toBeLessThan(1000);
    expect(extended.progress.at(-1)?.total).toBe(1000);

    const bounded = testCell({ sampling: { iterations: 2, min_seconds: 60, max_iterations: 6 } });
    expect((await sampleLoop(bounded.ctx, sleeper(1))).samples.v).toHaveLength(6);
  });

  it('stops at max_seconds, counted from the first warmup, and says so', async () => {
    const { ctx } = testCell({ sampling: { warmup: 2, iterations: 50, max_seconds: 0.4 } });
    const result = await sampleLoop(ctx, sleeper(50));
    // 0.4 s holds at most 8 runs of 50 ms, two of them warmups: however loaded the host, never all 50.
    const taken = result.samples.v!.length;
    expect(taken).toBeLessThanOrEqual(6);
    expect(result.truncated).toBe(`max_seconds (0.4 s) reached after ${taken} of 50 samples`);
  });

  it('aborts a sample over timeout_s and throws a WorkloadError carrying the samples so far', async () => {
    let slowSignal: AbortSignal | undefined;
    const once: SampleOnce = async (index, signal) => {
      if (index === 2) {
        slowSignal = signal;
        await sleep(30_000, undefined, { signal });
      }
      return { v: index };
    };
    const { ctx } = testCell({ sampling: { iterations: 5, timeout_s: 0.1 } });
    const error = await sampleLoop(ctx, once).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as WorkloadError).message).toBe('sample 3 took longer than timeout_s (0.1 s)');
    expect((error as WorkloadError).partial?.samples.v).toEqual([0, 1]);
    expect(slowSignal?.aborted).toBe(true);
  });

  it('rethrows a run failure with the partial samples', async () => {
    const once: SampleOnce = async (index) => {
      if (index === 3) throw new WorkloadError('exit code 1');
      return { v: index };
    };
    const { ctx } = testCell({ sampling: { warmup: 1, iterations: 5 } });
    const error = (await sampleLoop(ctx, once).catch((e: unknown) => e)) as WorkloadError;
    expect(error.message).toBe('exit code 1');
    expect(error.partial?.samples.v).toEqual([1, 2]);
  });

  it('keeps c runs in flight with concurrency c', async () => {
    let inFlight = 0;
    let most = 0;
    const once: SampleOnce = async (index, signal) => {
      most = Math.max(most, ++inFlight);
      await sleep(50, undefined, { signal });
      inFlight--;
      return { v: index };
    };
    const { ctx } = testCell({ sampling: { iterations: 8, concurrency: 4 } });
    const result = await sampleLoop(ctx, once);
    expect(result.samples.v).toHaveLength(8);
    expect(most).toBe(4);
  });

  it('on interrupt returns what was measured, aborts in-flight runs and never throws', async () => {
    const signals: AbortSignal[] = [];
    const cell = testCell({ sampling: { iterations: 100, concurrency: 2 } });
    // The interrupt comes when the sixth run starts (an event, not a clock): five at most can have finished.
    const once: SampleOnce = async (index, signal) => {
      signals.push(signal);
      if (signals.length === 6) cell.abort(new Error('interrupted by SIGINT'));
      await sleep(40, undefined, { signal });
      return { v: index };
    };
    const result = await sampleLoop(cell.ctx, once);
    expect(result.truncated).toBe('interrupted');
    expect(result.samples.v!.length).toBeGreaterThanOrEqual(4);
    expect(result.samples.v!.length).toBeLessThanOrEqual(5);
    expect(signals).toHaveLength(6); // nothing was started after the interrupt
    expect(signals.at(-1)?.aborted).toBe(true);
  });

  it('returns at once, with no samples, when already interrupted', async () => {
    const calls: number[] = [];
    const cell = testCell({ sampling: { iterations: 3 } });
    cell.abort();
    const result = await sampleLoop(cell.ctx, sleeper(0, calls));
    expect(result).toEqual({ samples: {}, truncated: 'interrupted' });
    expect(calls).toEqual([]);
  });

  it('runs beforeEach and afterEach around every run, warmups included', async () => {
    const events: string[] = [];
    const once: SampleOnce = async (index) => {
      events.push(`run ${index}`);
      return { v: index };
    };
    const { ctx } = testCell({ sampling: { warmup: 1, iterations: 2 } });
    await sampleLoop(ctx, once, {
      beforeEach: async (index) => void events.push(`before ${index}`),
      afterEach: async (index) => void events.push(`after ${index}`),
    });
    expect(events).toEqual(['before 0', 'run 0', 'after 0', 'before 1', 'run 1', 'after 1', 'before 2', 'run 2', 'after 2']);
  });
});

/** A batch whose runs each take `ms` (stopping when its signal aborts), recorded in chunks of `chunk` with value = index. */
function sleeperBatch(ms: number, chunk = 1, calls: [number, number][] = []): SampleBatch {
  return async (first, count, record, signal) => {
    calls.push([first, count]);
    for (let done = 0; done < count; done += chunk) {
      const size = Math.min(chunk, count - done);
      await sleep(ms * size, undefined, { signal });
      record(Array.from({ length: size }, (_, i) => ({ v: first + done + i })));
    }
  };
}

describe('sampleLoopBatched', () => {
  it('runs each phase as one batch, discards the warmup and reports progress per chunk', async () => {
    const calls: [number, number][] = [];
    const { ctx, progress } = testCell({ sampling: { warmup: 3, iterations: 5 } });
    const result = await sampleLoopBatched(ctx, sleeperBatch(0, 2, calls));
    expect(calls).toEqual([
      [0, 3],
      [3, 5],
    ]);
    expect(result).toEqual({ samples: { v: [3, 4, 5, 6, 7] } });
    expect(progress).toEqual([
      { phase: 'warmup', done: 2, total: 3 },
      { phase: 'warmup', done: 3, total: 3 },
      { phase: 'sample', done: 2, total: 5 },
      { phase: 'sample', done: 4, total: 5 },
      { phase: 'sample', done: 5, total: 5 },
    ]);
  });

  it('fills min_seconds with batches sized from the runs so far, bounded by max_iterations', async () => {
    const calls: [number, number][] = [];
    const extended = testCell({ sampling: { iterations: 2, min_seconds: 0.15, max_iterations: 1000 } });
    const started = performance.now();
    const result = await sampleLoopBatched(extended.ctx, sleeperBatch(10, 1, calls));
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    // Past the 2 iterations; and runs of at least 10 ms fit 0.15 s at most 15 times, however loaded the host (more would mean a batch overshot).
    expect(result.samples.v!.length).toBeGreaterThan(2);
    expect(result.samples.v!.length).toBeLessThan(30);
    expect(calls.length).toBeLessThan(6); // not one batch per run
    expect(extended.progress.at(-1)?.total).toBe(1000);

    const bounded = testCell({ sampling: { iterations: 2, min_seconds: 60, max_iterations: 6 } });
    expect((await sampleLoopBatched(bounded.ctx, sleeperBatch(1))).samples.v).toHaveLength(6);
  });

  it('words a SampleTimeout as the per-run loop does, with the samples before it', async () => {
    const runBatch: SampleBatch = async (first, count, record) => {
      for (let index = first; index < first + count; index++) {
        if (index === 3) throw new SampleTimeout(index);
        record([{ v: index }]);
      }
    };
    const { ctx } = testCell({ sampling: { warmup: 1, iterations: 5, timeout_s: 0.1 } });
    const error = (await sampleLoopBatched(ctx, runBatch).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toBe('sample 3 took longer than timeout_s (0.1 s)');
    expect(error.partial?.samples.v).toEqual([1, 2]);
    expect(runLabel(0, 1)).toBe('warmup run 1');
  });

  it('rethrows a run failure in a batch with the partial samples', async () => {
    const runBatch: SampleBatch = async (first, _count, record) => {
      record([{ v: first }]);
      throw new WorkloadError(`run ${first + 1} exited with code 1`);
    };
    const { ctx } = testCell({ sampling: { iterations: 5 } });
    const error = (await sampleLoopBatched(ctx, runBatch).catch((e: unknown) => e)) as WorkloadError;
    expect(error.message).toBe('run 1 exited with code 1');
    expect(error.partial?.samples.v).toEqual([0]);
  });

  it('on interrupt aborts the batch and keeps the runs it finished', async () => {
    let batchSignal: AbortSignal | undefined;
    const runBatch: SampleBatch = async (first, count, record, signal) => {
      batchSignal = signal;
      await sleeperBatch(20)(first, count, record, signal);
    };
    const cell = testCell({ sampling: { iterations: 100 } });
    setTimeout(() => cell.abort(new Error('interrupted by SIGINT')), 110);
    const result = await sampleLoopBatched(cell.ctx, runBatch);
    expect(result.truncated).toBe('interrupted');
    expect(result.samples.v!.length).toBeGreaterThanOrEqual(3);
    expect(result.samples.v!.length).toBeLessThan(8);
    expect(batchSignal?.aborted).toBe(true);
  });

  it('stops at max_seconds and says how many samples it took', async () => {
    const { ctx } = testCell({ sampling: { warmup: 2, iterations: 50, max_seconds: 0.3 } });
    const result = await sampleLoopBatched(ctx, sleeperBatch(25));
    const taken = result.samples.v!.length;
    expect(taken).toBeGreaterThanOrEqual(6);
    expect(taken).toBeLessThanOrEqual(11);
    expect(result.truncated).toBe(`max_seconds (0.3 s) reached after ${taken} of 50 samples`);
  });
});
