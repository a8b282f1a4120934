/** The calibration workload on the real busy loop and spawner (a loaded host makes a few-ms run vary several-fold, hence the wide margin): a side 10x as long is caught by both gates every trial; bad params are named. */
import { describe, expect, it } from 'vitest';
import { gateCalibrationWorkload } from '../../../runner/workloads/gate-calibration.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../helpers/param-problems.ts';

const params = { slowdown_pct: 900, loop_iterations: 400000, rounds: 20, per_round: 1, max_ratio: 1.02, alpha: 0.05 };

describe('gate-calibration workload', () => {
  for (const gate of ['paired', 'cross-run']) {
    it(`${gate}: a B side running 10x the loop fails the gate in every trial, with its ratio recorded`, async () => {
      const { ctx } = testCell({ workload: 'gate-calibration', params: { ...params, gate }, sampling: { iterations: 2 }, metrics: { gate_failed: { unit: 'share of trials' }, ratio: { unit: '×' } } });
      const result = await gateCalibrationWorkload.run(ctx);
      expect(result.samples.gate_failed).toEqual([1, 1]);
      for (const ratio of result.samples.ratio!) expect(ratio).toBeGreaterThan(1.5);
      expect(result.facts).toMatchObject({ loop: { a: 400000, b: 4000000 }, trial: { gate, samples_per_side: 20 } });
    });
  }

  it('names each bad param', () => {
    expect(paramProblemsOf(gateCalibrationWorkload, { ...params, gate: 'both', rounds: 1, alpha: 2 })).toEqual([
      'params.gate: expected one of paired, cross-run, found "both"',
      'params.rounds: expected a whole number >= 2, found 1',
      'params.alpha: expected a number in (0, 1), found 2',
    ]);
  });
});
