import { describe, expect, it } from 'vitest';
import { cannotFill, getWorkload, isWorkload, listWorkloads, registerWorkload } from '../../../runner/workloads/index.ts';

describe('workload registry', () => {
  it('has the built-ins registered', () => {
    for (const name of ['command', 'harness.fidelity', 'stats.summarize']) {
      expect(isWorkload(name)).toBe(true);
      expect(getWorkload(name)?.name).toBe(name);
    }
    expect(listWorkloads().map((w) => w.name)).toEqual(expect.arrayContaining(['command', 'harness.fidelity', 'stats.summarize']));
    expect(getWorkload('no.such.workload')).toBeUndefined();
  });

  it('refuses a second workload of the same name', () => {
    const workload = { name: 'test.registry-dup', description: 'd', run: async () => ({ samples: {} }) };
    registerWorkload(workload);
    expect(getWorkload('test.registry-dup')).toBe(workload);
    expect(() => registerWorkload({ ...workload })).toThrow('workload test.registry-dup is already registered');
  });
});

describe('which metrics a workload can fill', () => {
  const counted = { unit: 'instructions', better: 'lower' as const, kind: 'counted' as const, clock: 'instructions (Ir) under callgrind' };
  const timed = { unit: 'ms', better: 'lower' as const, clock: 'spawn -> exit' };

  const query = (name: string, metric: typeof timed | typeof counted) => ({ name, metrics: { [name]: metric }, params: [{}] });

  it('asks the workload, and by default a workload times: a counted metric is not one it fills', () => {
    expect(cannotFill('callgrind', counted, query('instructions', counted))).toBeNull();
    expect(cannotFill('callgrind', timed, query('wall_ms', timed))).toMatch(/^a counted metric in instructions/);
    expect(cannotFill('harness.fidelity', timed, query('wall_ms', timed))).toBeNull();
    expect(cannotFill('harness.fidelity', counted, query('instructions', counted))).toBe(
      'a timed metric (the harness.fidelity workload times; a counted metric needs a counting workload, e.g. callgrind)',
    );
    expect(cannotFill('no.such.workload', counted, query('instructions', counted))).toBeNull();
  });

  it('asks the command workload with the metric name, the rig metrics and the params of its cells', () => {
    expect(cannotFill('command', timed, query('wall_ms', timed))).toBeNull();
    expect(cannotFill('command', counted, query('instructions', counted))).toMatch(/^a metric the command workload fills: /);
    const sourced = { name: 'instructions', metrics: { instructions: counted }, params: [{}, { metrics: { instructions: { from: 'stdout' } } }] };
    expect(cannotFill('command', counted, sourced)).toBeNull();
  });
});
