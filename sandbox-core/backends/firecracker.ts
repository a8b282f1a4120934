/**
 * The `firecracker` backend: a microVM per sandbox, driven through
 * Firecracker's API socket (firecracker/), booting the qemu guest image's
 * initramfs and read-only squashfs root with an ELF build of the same kernel,
 * the agent reached over vsock. Available only where the binary, a usable
 * KVM and a guest that can speak vsock all exist; available() names each
 * one that is missing. On the machine this was written on none does: no
 * binary, a KVM that boots no stock kernel, a bzImage-only kernel without
 * virtio_mmio.device= parsing, and an agent and /init with no vsock channel.
 */
import { probeKvm } from '../kvm/probe.ts';
import { which } from '../../base/which.ts';
import { buildGuestImage } from '../images/guest-image.ts';
import { GUEST_WORKSPACE, guestKernelParams } from '../images/guest/init-script.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { guestKernels, guestProblems, type FirecrackerGuestOptions } from './firecracker/guest.ts';
import { FirecrackerSandbox } from './firecracker/sandbox.ts';
import { capabilityNumbers } from '../isolation/capabilities.ts';
import { kernelCommandLine } from './qemu/qemu-args.ts';
import type { Backend, Sandbox, SandboxSpec } from './types.ts';

const FIRECRACKER = 'firecracker';

type Availability = { ok: true } | { ok: false; reason: string };

/** The binary, KVM and setpriv: what the host lacks, one problem per entry. */
async function hostProblems(): Promise<string[]> {
  const problems: string[] = [];
  const binary = which(FIRECRACKER);
  if (!binary) problems.push('firecracker not on PATH (release binaries: https://github.com/firecracker-microvm/firecracker/releases)');
  // without the binary a KVM verdict already cached is worth reporting, a fresh boot probe is not worth its seconds
  const kvm = await probeKvm({ cachedOnly: !binary });
  if (kvm.status === 'absent') problems.push(`no KVM (${kvm.reason})`);
  if (kvm.status === 'present-but-unusable') problems.push(`/dev/kvm present but unusable: ${kvm.reason}`);
  if (kvm.status === 'unprobed' && binary) problems.push(`KVM could not be verified: ${kvm.reason}`);
  if (!which('setpriv')) problems.push('setpriv (util-linux) not on PATH');
  return problems;
}

/** Firecracker's recommended reboot and PCI settings on top of the qemu guest's command line (mmio bus, quiet console). */
export function firecrackerBootArgs(execCaps: number[]): string {
  // Firecracker exposes no TSC rate to rely on here: the kernel calibrates it.
  return [kernelCommandLine(['quiet'], guestKernelParams({ bus: 'mmio', execCaps }), null), 'reboot=k', 'pci=off'].join(' ');
}

export class FirecrackerBackend implements Backend {
  readonly name = 'firecracker';
  readonly usesKvm = true;
  #availability: Promise<Availability> | undefined;
  /** Built (or found in the cache) once per process; a failed build is retried by the next create(). */
  readonly #cachedImage = cacheUntilFailure(() => buildGuestImage(this.options.image));

  constructor(private readonly options: FirecrackerGuestOptions = {}) {}

  /** Host first (binary, KVM): the guest's gaps are only worth listing where a VM could run at all. */
  available(): Promise<Availability> {
    this.#availability ??= (async (): Promise<Availability> => {
      const host = await hostProblems();
      const problems = host.length > 0 ? host : await guestProblems(this.options);
      return problems.length === 0 ? { ok: true } : { ok: false, reason: problems.join('; ') };
    })();
    return this.#availability;
  }

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    checkSpec(spec);
    const execCaps = capabilityNumbers(spec.capabilities ?? []);
    // a guest that cannot answer would only be found out by the ready timeout
    const availability = await this.available();
    if (!availability.ok) throw new Error(`firecracker cannot run here: ${availability.reason}`);
    const sandbox = new FirecrackerSandbox(spec);
    const t0 = performance.now();
    await sandbox.start(async () => {
      const [image, kernels] = await Promise.all([this.#cachedImage(), guestKernels(this.options)]);
      return {
        firecracker: FIRECRACKER,
        setpriv: 'setpriv',
        guest: { kernel: kernels.vmlinux, initramfs: image.initramfs, rootImage: image.rootImage, bootArgs: firecrackerBootArgs(execCaps) },
        preparedMs: performance.now() - t0,
      };
    }, options.signal);
    return sandbox;
  }
}

/** What the spec asks that this guest cannot give; throws naming the field. */
function checkSpec(spec: SandboxSpec): void {
  if (spec.agent === 'node') throw new Error('spec.agent: the firecracker guest runs the native agent as PID 1 (its image holds no Node), found "node"');
  if (spec.workspacePath !== undefined && spec.workspacePath !== GUEST_WORKSPACE) {
    throw new Error(`spec.workspacePath: the guest's only writable mount point is ${GUEST_WORKSPACE}, found ${JSON.stringify(spec.workspacePath)}`);
  }
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: the microVM gets no network interface (only "none"), found ${JSON.stringify(spec.network)}`);
}

export const firecrackerBackend = new FirecrackerBackend();
