import { describe, expect, it } from 'vitest';
import { staleContainers } from '../../../../sandbox-core/backends/engines/stale.ts';

describe('staleContainers', () => {
  it('picks the containers whose owner is dead and keeps those of live owners and of this process', () => {
    const ps = ['docker-1-aa\t1', 'docker-2-bb\t2', `docker-${process.pid}-cc\t${process.pid}`, ''].join('\n');
    expect(staleContainers(ps, (pid) => pid === 2)).toEqual(['docker-1-aa']);
  });

  it('ignores lines without an owner pid', () => {
    expect(staleContainers('someone-else\t\nbare-name\nodd\tnot-a-pid\n', () => false)).toEqual([]);
  });
});
