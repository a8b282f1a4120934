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

  it('asks the workload, and by default a workload times: a counted metric is not one it fills', () => {
    expect(cannotFill('callgrind', counted)).toBeNull();
    expect(cannotFill('callgrind', timed)).toMatch(/^a counted metric in instructions/);
    expect(cannotFill('sandbox.lifecycle', timed)).toBeNull();
    expect(cannotFill('sandbox.lifecycle', counted)).toBe('a timed metric (the sandbox.lifecycle workload times; a counted metric needs a counting workload, e.g. callgrind)');
    expect(cannotFill('command', timed)).toBeNull();
    expect(cannotFill('command', { ...timed, unit: 'msec' })).toMatch(/^a timed metric in ms \(unit: ms\): the command workload times each run in ms/);
    expect(cannotFill('command', counted)).toBe('a timed metric (the command workload times; a counted metric needs a counting workload, e.g. callgrind)');
    expect(cannotFill('no.such.workload', counted)).toBeNull();
  });
});
