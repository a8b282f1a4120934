import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../../sandbox-core/agent/build.ts';
import { agentSpeaksVsock, channelProblem, guestKernels, parsesMmioCommandLine } from '../../../../sandbox-core/backends/firecracker/guest.ts';
import { firecrackerBootArgs } from '../../../../sandbox-core/backends/firecracker.ts';

describe('the Firecracker guest', () => {
  it('knows a kernel config that parses virtio_mmio.device= from one that does not', () => {
    expect(parsesMmioCommandLine('CONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n')).toBe(true);
    expect(parsesMmioCommandLine('CONFIG_VIRTIO_MMIO=m\n# CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is not set\n')).toBe(false);
  });

  it('boots the debug-package ELF of the guest kernel version unless given one', async () => {
    const kernel = { image: { kernel: '/boot/vmlinuz-6.1.0-56-cloud-amd64' } };
    expect(await guestKernels(kernel)).toEqual({
      vmlinuz: '/boot/vmlinuz-6.1.0-56-cloud-amd64',
      version: '6.1.0-56-cloud-amd64',
      vmlinux: '/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64',
    });
    expect((await guestKernels({ ...kernel, vmlinux: '/k/vmlinux' })).vmlinux).toBe('/k/vmlinux');
  });

  it('reads from the real agent whether it offers a vsock channel, and names what is missing', async () => {
    const agent = await nativeAgentPath();
    const speaks = await agentSpeaksVsock(agent);
    const problem = await channelProblem(agent);
    expect(problem?.includes('agent has no vsock transport') ?? false).toBe(!speaks);
    if (!speaks) expect(problem).toMatch(/^Firecracker's only host channel is vsock, but the agent has no vsock transport \(agent\.c: `--port vsock:PORT`/);
  });

  it('sees vsock in a usage line that offers it', async () => {
    const agent = join(import.meta.dirname, 'fixtures', 'vsock-agent');
    expect(await agentSpeaksVsock(agent)).toBe(true);
    expect(await channelProblem(agent)).not.toMatch(/agent has no vsock transport/);
  });

  it("boots on the qemu guest's command line for the mmio bus, with Firecracker's reboot and PCI settings", () => {
    const words = firecrackerBootArgs([12]).split(' ');
    expect(words).toEqual(expect.arrayContaining(['console=ttyS0', 'rigor.bus=mmio', 'rigor.exec_caps=12', 'reboot=k', 'pci=off']));
    expect(firecrackerBootArgs([])).not.toMatch(/exec_caps/);
  });
});
