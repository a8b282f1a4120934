import { describe, expect, it } from 'vitest';
import { summarizeLoadRun, waveSizes } from '../../../../runner/workloads/engine-cycle/summary.ts';

describe('a load run summarized', () => {
  it('gives type-7 percentiles, the mean and completions per second of wall time', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    const s = summarizeLoadRun(latencies, 20_000);
    expect(s.p50).toBeCloseTo(50.5, 10);
    expect(s.p95).toBeCloseTo(95.05, 10);
    expect(s.p99).toBeCloseTo(99.01, 10);
    expect(s.mean).toBeCloseTo(50.5, 10);
    expect(s.perSecond).toBe(5);
  });

  it('refuses a run with nothing in it or no time', () => {
    expect(() => summarizeLoadRun([], 10)).toThrow('expected at least one latency');
    expect(() => summarizeLoadRun([1], 0)).toThrow('expected a wall time > 0, found 0');
  });
});

describe('waves', () => {
  it('split the lifecycles into waves of parallel, the last one smaller', () => {
    expect(waveSizes(100, 10)).toEqual(Array(10).fill(10));
    expect(waveSizes(25, 10)).toEqual([10, 10, 5]);
    expect(waveSizes(3, 10)).toEqual([3]);
  });

  it('refuse what is no whole number', () => {
    expect(() => waveSizes(10, 0)).toThrow('found total 10, parallel 0');
  });
});
