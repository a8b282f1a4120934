import { describe, expect, it } from 'vitest';
import type { EngineConnector } from '../../../../runner/workloads/engine-cycle/connection.ts';
import { cannotFillEngineCycle, engineCycleWorkload } from '../../../../runner/workloads/engine-cycle/workload.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

// Params and metrics are checked before any engine is asked: a connector that would fail if it were.
const unreachable: EngineConnector = {
  skipReason: () => Promise.reject(new Error('not asked')),
  open: () => Promise.reject(new Error('not asked')),
};
const workload = engineCycleWorkload(unreachable);

describe('engine.cycle params', () => {
  it('takes an engine, a runtime and a mode, and the load params of its mode', () => {
    expect(paramProblemsOf(workload, { engine: 'docker', mode: 'run-rm' })).toEqual([]);
    expect(paramProblemsOf(workload, { engine: 'podman', runtime: 'runsc', mode: 'cycles', cycles: 100, parallel: 10 })).toEqual([]);
    expect(paramProblemsOf(workload, { engine: 'docker', mode: 'concurrent', requests: 100, command: ['true'] })).toEqual([]);
  });

  it('names each mistake: an unknown engine or mode, a load param of another mode, waves wider than the run', () => {
    expect(paramProblemsOf(workload, { engine: 'lxc', mode: 'run-rm', runtime: 'kata' })).toEqual([
      'params.engine: expected one of docker, podman, found "lxc"',
      'params.runtime: expected one of runc, runsc, found "kata"',
    ]);
    expect(paramProblemsOf(workload, { engine: 'docker', mode: 'run-rm', requests: 100, parallel: 10 })).toEqual([
      'params.parallel: expected nothing with mode "run-rm" (only mode cycles takes parallel), found 10',
      'params.requests: expected nothing with mode "run-rm" (only mode concurrent takes requests), found 100',
    ]);
    expect(paramProblemsOf(workload, { engine: 'docker', mode: 'cycles', cycles: 5, parallel: 10 })).toEqual(['params.parallel: expected at most cycles (5), found 10']);
  });
});

describe('engine.cycle metrics', () => {
  const timed = (unit: string) => ({ unit, better: 'lower' as const, clock: 'a -> b' });
  it('fills its own names, in ms or per second', () => {
    expect(cannotFillEngineCycle(timed('ms'), { name: 'exec_ms' })).toBeNull();
    expect(cannotFillEngineCycle({ ...timed('cycles/s'), better: 'higher' }, { name: 'cycles_per_s' })).toBeNull();
  });

  it('says what it fills instead', () => {
    expect(cannotFillEngineCycle(timed('ms'), { name: 'total_ms' })).toMatch(/^one of the metrics engine.cycle fills \(run_ms, create_ms, .*requests_wall_ms\), timed$/);
    expect(cannotFillEngineCycle(timed('s'), { name: 'run_ms' })).toBe('a timed metric in ms (engine.cycle fills run_ms in ms)');
    expect(cannotFillEngineCycle(timed('ms'), { name: 'requests_per_s' })).toBe('a timed metric in a unit per second, e.g. requests/s');
  });
});
