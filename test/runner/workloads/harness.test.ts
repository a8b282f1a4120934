import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FIDELITY_GOAL, fidelitySummary, harnessWorkload, roundOrder } from '../../../runner/workloads/harness.ts';
import { testCell } from '../../helpers/cell-context.ts';

const metrics = { rigor_native_ms: {}, rigor_node_ms: {}, hyperfine_ms: {} };
const harnessDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('rigor-harness-')).sort();

describe('harness.fidelity', () => {
  it('times one command three ways, interleaved, and compares the medians', async () => {
    const before = harnessDirs();
    const { ctx, progress } = testCell({ workload: 'harness.fidelity', params: { run: ['true'], rounds: 2 }, sampling: { warmup: 1, iterations: 6 }, metrics });
    const result = await harnessWorkload.run(ctx);
    for (const name of Object.keys(metrics)) {
      expect(result.samples[name]).toHaveLength(6);
      expect(result.samples[name]!.every((ms) => Number.isFinite(ms) && ms > 0)).toBe(true);
    }
    const facts = result.facts as Record<string, unknown>;
    expect(facts).toMatchObject({ rounds: 2, runs_per_round: 3, goal: FIDELITY_GOAL, hyperfine_version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(facts.median_ratio_native).toBeGreaterThan(0);
    expect(facts.median_ratio_node).toBeGreaterThan(0);
    expect(typeof facts.overhead_native_ms).toBe('number');
    expect(typeof facts.goal_met_native).toBe('boolean');
    expect(facts.loop_native).toBe('batch');
    expect(facts.summary).toMatch(/^native \d\.\d\d× hyperfine \([+−]\d\.\d\d ms\/sample\), node spawn \d+\.\d×: (goal met|goal not met|no overhead over hyperfine, but \d+% below it: "within 5%" not met)$/);
    expect(result.tools?.hyperfine).toBe(facts.hyperfine_version);
    expect(progress.at(-1)).toEqual({ phase: 'sample', done: 18, total: 18 });
    expect(harnessDirs()).toEqual(before);
  });

  it('returns what it measured when interrupted, and removes its temp files', async () => {
    const before = harnessDirs();
    const cell = testCell({ params: { run: ['sleep', '0.05'], rounds: 10 }, sampling: { warmup: 0, iterations: 100 }, metrics });
    setTimeout(() => cell.abort(new Error('interrupted by SIGINT')), 400);
    const result = await harnessWorkload.run(cell.ctx);
    expect(result.truncated).toBe('interrupted');
    expect(harnessDirs()).toEqual(before);
  });

  it('sums the comparison up in one line', () => {
    expect(fidelitySummary(0.9712, -0.0183, 3.61, true)).toBe('native 0.97× hyperfine (−0.02 ms/sample), node spawn 3.6×: goal met');
    expect(fidelitySummary(1.08, 0.051, null, false)).toBe('native 1.08× hyperfine (+0.05 ms/sample): goal not met');
    expect(fidelitySummary(null, null, 3, false)).toBe('no native and hyperfine samples to compare: goal not met');
    expect(fidelitySummary(0.93, -0.04, 3.6, false, true)).toBe(
      'native 0.93× hyperfine (−0.04 ms/sample), node spawn 3.6×: no overhead over hyperfine, but 7% below it: "within 5%" not met',
    );
  });

  it('rotates the order each round', () => {
    expect(roundOrder(0)).toEqual(['rigor_native_ms', 'rigor_node_ms', 'hyperfine_ms']);
    expect(roundOrder(1)).toEqual(['rigor_node_ms', 'hyperfine_ms', 'rigor_native_ms']);
  });

  it('needs hyperfine and the command on PATH, and an argv', () => {
    expect(harnessWorkload.requirements!({ run: ['true'] })).toEqual([{ binary: 'hyperfine' }, { binary: 'true' }]);
    expect(harnessWorkload.validateParams!({ run: 'true' })).toEqual(['params.run: expected an argv list of strings, found "true"']);
  });
});
