import { describe, expect, it } from 'vitest';
import { staleContainers } from '../../../../sandbox-core/backends/engines/stale.ts';

describe('staleContainers', () => {
  it("picks the containers whose owner is dead and keeps those of live owners and of this process, from docker's labels", () => {
    const ps = ['docker-1-aa\trigor.owner=1', 'docker-2-bb\ta=b,rigor.owner=2', `docker-${process.pid}-cc\trigor.owner=${process.pid}`, ''].join('\n');
    expect(staleContainers(ps, (pid) => pid === 2)).toEqual(['docker-1-aa']);
  });

  it("reads podman's label map the same way", () => {
    const ps = ['podman-7-aa\tmap[rigor.owner:7]', 'podman-8-bb\tmap[a:b rigor.owner:8]', 'podman-9-cc\tmap[rigor.owner:9 z:1]'].join('\n');
    expect(staleContainers(ps, (pid) => pid === 8)).toEqual(['podman-7-aa', 'podman-9-cc']);
  });

  it('ignores lines without an owner pid, and labels that only end like it', () => {
    expect(staleContainers('someone-else\t\nbare-name\nodd\trigor.owner=x\nother\tnotrigor.owner=5\n', () => false)).toEqual([]);
  });
});
