import { describe, expect, it } from 'vitest';
import { staleContainers } from '../../../../sandbox-core/backends/engines/stale.ts';

describe('staleContainers', () => {
  it('picks the containers whose workspace dir is gone and keeps those whose dir exists', () => {
    const ps = ['docker-1-aa\t/tmp/rigor-docker-1-gone', 'docker-2-bb\t/tmp/rigor-docker-2-here', ''].join('\n');
    const exists = (path: string) => path.endsWith('here');
    expect(staleContainers(ps, exists)).toEqual(['docker-1-aa']);
  });

  it('ignores lines without a workspace label value', () => {
    expect(staleContainers('someone-else\t\nbare-name\n', () => false)).toEqual([]);
  });
});
