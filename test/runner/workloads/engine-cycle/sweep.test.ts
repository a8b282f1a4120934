import { describe, expect, it } from 'vitest';
import { leftoverNames, pidAlive } from '../../../../runner/workloads/engine-cycle/sweep.ts';

describe('leftover containers', () => {
  it('are ours whose owner pid is dead, never a live owner, never our own, never another name', () => {
    const ps = ['rigor-cycle-100-0', 'rigor-cycle-200-3', 'rigor-cycle-300-1', 'someone-else', 'rigor-agent-100', ''].join('\n');
    expect(leftoverNames(ps, (pid) => pid === 200, 300)).toEqual(['rigor-cycle-100-0']);
  });

  it('tell a live pid from a dead one for real', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(2 ** 22 + 1)).toBe(false); // above pid_max's ceiling
  });
});
