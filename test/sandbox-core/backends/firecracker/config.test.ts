import { describe, expect, it } from 'vitest';
import { AGENT_VSOCK_PORT, GUEST_CID, microVmSetup, START_INSTANCE, vmState } from '../../../../sandbox-core/backends/firecracker/config.ts';

describe('microVmSetup', () => {
  const calls = microVmSetup({
    kernelPath: '/k/vmlinux',
    initrdPath: '/images/initramfs.cpio',
    bootArgs: 'console=ttyS0 reboot=k panic=1 pci=off',
    rootfsPath: '/images/root.squashfs',
    vcpuCount: 2,
    memSizeMib: 512,
    vsockPath: '/tmp/sb/v.sock',
  });
  const body = (path: string) => calls.find((call) => call.path === path)?.body;

  it('configures everything with PUT before the start, and no network interface', () => {
    expect(calls.every((call) => call.method === 'PUT')).toBe(true);
    expect(calls.some((call) => call.path.startsWith('/network-interfaces'))).toBe(false);
  });

  it('boots the given kernel and initramfs with the given command line', () => {
    expect(body('/boot-source')).toEqual({ kernel_image_path: '/k/vmlinux', initrd_path: '/images/initramfs.cpio', boot_args: 'console=ttyS0 reboot=k panic=1 pci=off' });
  });

  it('attaches the root image read-only as the only drive, for /init to mount', () => {
    expect(calls.filter((call) => call.path.startsWith('/drives/'))).toEqual([
      { method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: '/images/root.squashfs', is_root_device: false, is_read_only: true } },
    ]);
  });

  it('sizes the machine and gives it a vsock device on the sandbox socket', () => {
    expect(body('/machine-config')).toEqual({ vcpu_count: 2, mem_size_mib: 512 });
    expect(body('/vsock')).toEqual({ guest_cid: GUEST_CID, uds_path: '/tmp/sb/v.sock' });
    expect(GUEST_CID).toBeGreaterThanOrEqual(3);
    expect(AGENT_VSOCK_PORT).toBeGreaterThan(0);
  });

  it('starts, pauses and resumes with the actions and vm calls', () => {
    expect(START_INSTANCE).toEqual({ method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } });
    expect(vmState('Paused')).toEqual({ method: 'PATCH', path: '/vm', body: { state: 'Paused' } });
    expect(vmState('Resumed')).toEqual({ method: 'PATCH', path: '/vm', body: { state: 'Resumed' } });
  });
});
