/**
 * facts.engine as read from the real engines' `info` JSON, checked against
 * what the same CLI prints for each field through its own template.
 */
import { describe, expect, it } from 'vitest';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../../sandbox-core/backends/engines/backend.ts';
import { runEngineOrThrow } from '../../../../sandbox-core/backends/engines/engine.ts';
import { engineFacts } from '../../../../sandbox-core/backends/engines/facts.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';

const templates: Record<string, { server: string; storage: string; cgroup: string }> = {
  docker: { server: '{{.ServerVersion}}', storage: '{{.Driver}}', cgroup: '{{.CgroupDriver}}' },
  podman: { server: '{{.Version.Version}}', storage: '{{.Store.GraphDriverName}}', cgroup: '{{.Host.CgroupManager}}' },
};

for (const backend of [dockerBackend, podmanBackend] as EngineBackend[]) {
  const availability = await backend.available();
  describe.skipIf(!availability.ok)(`${backend.name} info${availability.ok ? '' : ` (skipped: ${availability.reason})`}`, () => {
    it('gives the versions and drivers the engine prints field by field', async () => {
      const connection = await backend.connection();
      const info = backend.engine.parseInfo(JSON.parse(await runEngineOrThrow(connection, backend.engine.info)));
      const field = (template: string) => runEngineOrThrow(connection, ['info', '--format', template]);
      const template = templates[backend.name]!;
      expect(info.server_version).toBe(await field(template.server));
      expect(info.storage_driver).toBe(await field(template.storage));
      expect(info.cgroup_driver).toBe(await field(template.cgroup));
      expect(info.runtimes.length).toBeGreaterThan(0);
      if (backend.name === 'docker' && connection.managed === 'private') expect(info.remapped).toBe(true);
    });
  });
}

describe('engineFacts', () => {
  it("puts rigor's choices beside the engine's info, the platform only for gVisor", () => {
    const info = { client_version: '28.2.2', server_version: '20.10.24', storage_driver: 'overlay2', cgroup_driver: 'cgroupfs', remapped: true, runtimes: ['runc', 'runsc'] };
    const facts = engineFacts({ cli: 'docker', managed: 'private' }, info, { runtime: 'runc', userns: 'remap', flags: ['--bridge=none'] });
    const { remapped: _remapped, ...shown } = info;
    expect(facts).toEqual({ cli: 'docker', ...shown, managed: 'private', userns: 'remap', runtime: 'runc', flags: ['--bridge=none'] });
    expect(engineFacts({ cli: 'podman', managed: 'user' }, info, { runtime: 'runsc', platform: 'ptrace', userns: 'host', flags: [] }).platform).toBe('ptrace');
  });
});
