/**
 * The API calls that configure and boot one microVM, as a pure function of
 * the sandbox: kernel, initramfs and command line, the read-only root image
 * as the only drive (the guest's /init mounts a tmpfs workspace, as under
 * qemu), size, and the vsock device that carries the agent channel. No
 * network interface is configured, so the guest has only its loopback.
 */
import type { ApiCall } from './api.ts';

/** The guest's vsock context id; any value >= 3 works, each VM has its own vsock device and socket. */
export const GUEST_CID = 3;
/** The vsock port the agent listens on inside the guest. */
export const AGENT_VSOCK_PORT = 1024;

export interface MicroVmInput {
  /** Uncompressed ELF vmlinux. */
  kernelPath: string;
  /** The initramfs whose /init mounts the root and starts the agent. */
  initrdPath: string;
  bootArgs: string;
  /** Root filesystem image, attached read-only as the only drive (/dev/vda). */
  rootfsPath: string;
  vcpuCount: number;
  memSizeMib: number;
  /** Host unix socket Firecracker listens on for host-initiated vsock connections. */
  vsockPath: string;
}

/** The pre-boot configuration calls, in the order they are made. */
export function microVmSetup(input: MicroVmInput): ApiCall[] {
  return [
    { method: 'PUT', path: '/boot-source', body: { kernel_image_path: input.kernelPath, initrd_path: input.initrdPath, boot_args: input.bootArgs } },
    // not the root device: the initramfs's /init mounts it, so the kernel adds no root= of its own
    { method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: input.rootfsPath, is_root_device: false, is_read_only: true } },
    { method: 'PUT', path: '/machine-config', body: { vcpu_count: input.vcpuCount, mem_size_mib: input.memSizeMib } },
    { method: 'PUT', path: '/vsock', body: { guest_cid: GUEST_CID, uds_path: input.vsockPath } },
  ];
}

export const START_INSTANCE: ApiCall = { method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } };

/** Pause or resume every vCPU; the VMM keeps the guest's memory as it is. */
export function vmState(state: 'Paused' | 'Resumed'): ApiCall {
  return { method: 'PATCH', path: '/vm', body: { state } };
}
