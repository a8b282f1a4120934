/**
 * What available() and create() say on the host the tests run on. On the
 * machine this was written on there is no firecracker binary and /dev/kvm
 * boots no stock kernel, so both must say exactly that and start nothing.
 */
import { describe, expect, it } from 'vitest';
import { probeKvm } from '../../../../sandbox-core/kvm/probe.ts';
import { which } from '../../../../base/which.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { firecrackerBackend } from '../../../../sandbox-core/backends/firecracker.ts';

const binary = which('firecracker');
const kvm = await probeKvm({ cachedOnly: true });

describe('firecracker on this host', () => {
  it.runIf(!binary)('says the binary is missing, with where to get it', async () => {
    const availability = await firecrackerBackend.available();
    expect(availability.ok).toBe(false);
    expect(!availability.ok && availability.reason).toMatch(/^firecracker not on PATH \(release binaries: https:\/\/github\.com\/firecracker-microvm\/firecracker\/releases\)/);
  });

  it.runIf(kvm.status === 'present-but-unusable')('says /dev/kvm is present but unusable, with the probe reason', async () => {
    const availability = await firecrackerBackend.available();
    expect(!availability.ok && availability.reason).toContain(`/dev/kvm present but unusable: ${kvm.reason}`);
  });

  it.runIf(!binary)('refuses to create, naming the reason, and leaves no sandbox behind', async () => {
    await expect(firecrackerBackend.create()).rejects.toThrow(/^firecracker cannot run here: firecracker not on PATH/);
    expect(liveSandboxes().filter((sandbox) => sandbox.backend === 'firecracker')).toEqual([]);
  });

  it('rejects a spec the guest cannot honour before anything else', async () => {
    await expect(firecrackerBackend.create({ agent: 'node' })).rejects.toThrow(/^spec\.agent: the firecracker guest runs the native agent/);
    await expect(firecrackerBackend.create({ workspacePath: '/srv' })).rejects.toThrow('spec.workspacePath: the guest\'s only writable mount point is /workspace, found "/srv"');
  });
});
