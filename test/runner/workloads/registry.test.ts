import { describe, expect, it } from 'vitest';
import { getWorkload, isWorkload, listWorkloads, registerWorkload } from '../../../runner/workloads/index.ts';

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
