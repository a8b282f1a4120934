/**
 * What a Firecracker guest boots, taken from the qemu guest image
 * (images/guest-image.ts) where it fits, and what does not fit, found by
 * looking at the real artifacts rather than assumed:
 *
 * - the read-only squashfs root fits as it is (virtio-blk on virtio-mmio);
 * - the kernel does not: /boot/vmlinuz-<version> is a bzImage, and Firecracker
 *   boots only an ELF vmlinux on x86_64. Debian ships the same kernel as ELF in
 *   linux-image-<version>-dbg (/usr/lib/debug/boot/vmlinux-<version>). It must
 *   also parse `virtio_mmio.device=` (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES),
 *   which is how Firecracker announces its devices; Debian's cloud kernel does not;
 * - the channel does not: Firecracker's only host-guest channel is vsock,
 *   while the guest /init starts the agent on virtio-serial (`--port auto`)
 *   and the agent has no vsock transport.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { nativeAgentPath } from '../../agent/build.ts';
import { defaultGuestKernel, kernelVersionOf, type GuestImageOptions } from '../../images/guest-image.ts';
import { initScript } from '../../images/guest/init-script.ts';
import { kernelProblem } from './kernel.ts';

/** Where Debian's linux-image-<version>-dbg package puts the uncompressed kernel. */
const DEBUG_VMLINUX_DIR = '/usr/lib/debug/boot';

export interface FirecrackerGuestOptions {
  /** The qemu guest image's options; its kernel picks the version whose modules the initramfs holds. */
  image?: GuestImageOptions;
  /** An ELF vmlinux of that same version; default DEBUG_VMLINUX_DIR/vmlinux-<version>. */
  vmlinux?: string;
}

/** The guest kernel (a vmlinuz, for its version) and the vmlinux to boot: the one given, or the debug-package ELF of that version. */
export async function guestKernels(options: FirecrackerGuestOptions): Promise<{ vmlinuz: string; version: string; vmlinux: string }> {
  const vmlinuz = options.image?.kernel ?? (await defaultGuestKernel());
  const version = kernelVersionOf(vmlinuz);
  return { vmlinuz, version, vmlinux: options.vmlinux ?? `${DEBUG_VMLINUX_DIR}/vmlinux-${version}` };
}

/** Whether a kernel .config text builds in the parsing of `virtio_mmio.device=`. */
export function parsesMmioCommandLine(kernelConfig: string): boolean {
  return /^CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y$/m.test(kernelConfig);
}

/** Whether the agent's usage line offers a vsock channel (it prints usage for an argument it does not know). */
export async function agentSpeaksVsock(agentPath?: string): Promise<boolean> {
  const agent = agentPath ?? (await nativeAgentPath());
  const result = await execa(agent, ['--rigor-show-usage'], { reject: false, stdin: 'ignore', timeout: 5000 });
  return /vsock/.test(`${result.stdout}\n${result.stderr}`);
}

/** Why the guest cannot reach the host under Firecracker, or null. */
export async function channelProblem(agentPath?: string): Promise<string | null> {
  const missing: string[] = [];
  if (!(await agentSpeaksVsock(agentPath))) missing.push('the agent has no vsock transport (agent.c: `--port vsock:PORT`, listening on AF_VSOCK for the host\'s CONNECT, is not implemented)');
  if (!initScript({ mmio: { base: [], net: [] }, pci: { base: [], net: [] } }).includes('vsock')) missing.push('the guest /init starts the agent on virtio-serial (`--port auto`) and loads no vsock modules');
  return missing.length === 0 ? null : `Firecracker's only host channel is vsock, but ${missing.join(', and ')}`;
}

/** Everything the guest side lacks, one problem per entry (empty when it can boot and talk). */
export async function guestProblems(options: FirecrackerGuestOptions): Promise<string[]> {
  let kernels: Awaited<ReturnType<typeof guestKernels>>;
  try {
    kernels = await guestKernels(options);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const advice = options.vmlinux ? 'pass an x86-64 ELF vmlinux' : `apt-get install linux-image-${kernels.version}-dbg, or pass a vmlinux`;
  const kernel = await kernelProblem(kernels.vmlinux);
  if (kernel) problems.push(`${kernel} (${advice})`);
  // the .config beside the vmlinuz says how that kernel was built; without one there is nothing to say
  const config = await readFile(`${dirname(kernels.vmlinuz)}/config-${kernels.version}`, 'utf8').catch(() => undefined);
  if (config !== undefined && !parsesMmioCommandLine(config)) {
    problems.push(`kernel ${kernels.version} is built without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so it cannot find the devices Firecracker announces with virtio_mmio.device=`);
  }
  const channel = await channelProblem(options.image?.agentPath);
  if (channel) problems.push(channel);
  return problems;
}
