/** The qemu command line, the kernel's, capability numbers and the host TSC rate: pure functions. */
import { describe, expect, it } from 'vitest';
import { capabilityNumbers } from '../../../../sandbox-core/isolation/capabilities.ts';
import { busOf, kernelCommandLine, qemuArgs, type QemuPlan } from '../../../../sandbox-core/backends/qemu/qemu-args.ts';
import { hostTscKhz } from '../../../../sandbox-core/backends/qemu/tsc.ts';
import { guestKernelParams } from '../../../../sandbox-core/images/guest/init-script.ts';

const plan: QemuPlan = {
  machine: 'microvm',
  accel: 'tcg',
  memoryMiB: 256,
  kernel: '/cache/vmlinux',
  initramfs: '/cache/initramfs.cpio',
  rootImage: '/cache/root.squashfs',
  append: 'console=ttyS0',
  agentSocket: '/tmp/q/agent.sock',
  qmpSocket: '/tmp/q/qmp.sock',
  pidFile: '/tmp/q/qemu.pid',
};

/** Values of every occurrence of an option. */
function values(args: string[], option: string): string[] {
  return args.flatMap((arg, index) => (arg === option ? [args[index + 1]!] : []));
}

describe('qemuArgs', () => {
  it('gives the guest no network device and no defaults, a read-only root and the memory asked for', () => {
    const args = qemuArgs(plan);
    expect(values(args, '-nic')).toEqual(['none']);
    expect(args).toContain('-nodefaults');
    expect(values(args, '-device').some((device) => /net|e1000|rtl8139|vhost/.test(device))).toBe(false);
    expect(values(args, '-netdev')).toEqual([]);
    expect(values(args, '-drive')).toEqual(['if=none,id=root,file=/cache/root.squashfs,format=raw,readonly=on']);
    expect(values(args, '-m')).toEqual(['256M']);
    expect(values(args, '-object')).toEqual(['memory-backend-memfd,id=ram,size=256M']);
  });

  it('with a RAM file: guest RAM mapped shared from it (what a snapshot copies); a restore starts waiting for its stream', () => {
    const args = qemuArgs({ ...plan, ramFile: '/dev/shm/rigor-qemu-1-a,b/ram', incoming: true });
    expect(values(args, '-object')).toEqual(['memory-backend-file,id=ram,size=256M,mem-path=/dev/shm/rigor-qemu-1-a,,b/ram,share=on']);
    expect(values(args, '-incoming')).toEqual(['defer']);
    expect(values(qemuArgs(plan), '-incoming')).toEqual([]);
  });

  it('with egress: one virtio-net device on a restricted user network whose only forwards relay to the egress sockets', () => {
    const egress = { relay: '/cache/rigor-agent', proxySocket: '/tmp/q/proxy.sock', dnsSocket: '/tmp/q/dns.sock' };
    const args = qemuArgs({ ...plan, egress });
    expect(values(args, '-nic')).toEqual([]);
    expect(values(args, '-netdev')).toEqual([
      'user,id=egress,restrict=on,ipv6=off,' +
        'guestfwd=tcp:10.0.2.100:3128-cmd:/cache/rigor-agent --relay /tmp/q/proxy.sock,' +
        'guestfwd=tcp:10.0.2.100:53-cmd:/cache/rigor-agent --relay /tmp/q/dns.sock',
    ]);
    expect(values(args, '-device')).toContain('virtio-net-device,netdev=egress');
    expect(values(qemuArgs({ ...plan, machine: 'pc', egress }), '-device')).toContain('virtio-net-pci,netdev=egress');
    const noDns = qemuArgs({ ...plan, egress: { relay: egress.relay, proxySocket: egress.proxySocket } });
    expect(values(noDns, '-netdev')[0]).not.toContain(':53-');
  });

  it('refuses egress paths a guestfwd command would split or misread', () => {
    expect(() => qemuArgs({ ...plan, egress: { relay: '/cache/rigor-agent', proxySocket: '/tmp/my dir/proxy.sock' } })).toThrow(
      /qemu egress: "\/tmp\/my dir\/proxy.sock" has characters a guestfwd command cannot carry/,
    );
    expect(() => qemuArgs({ ...plan, egress: { relay: '/cache/a,b', proxySocket: '/tmp/p.sock' } })).toThrow(/qemu egress: "\/cache\/a,b"/);
  });

  it('makes qemu wait for the host on the agent port, with QMP and the console beside it', () => {
    const args = qemuArgs(plan);
    expect(values(args, '-chardev')).toEqual([
      'socket,id=qmp,path=/tmp/q/qmp.sock,server=on,wait=off',
      'socket,id=agent,path=/tmp/q/agent.sock,server=on,wait=on',
      'stdio,id=console,signal=off',
    ]);
    expect(values(args, '-device')).toContain('virtserialport,chardev=agent,name=rigor.agent');
    expect(values(args, '-mon')).toEqual(['chardev=qmp,mode=control']);
    expect(values(args, '-pidfile')).toEqual(['/tmp/q/qemu.pid']); // its appearance stamps `launched`
  });

  it('uses virtio-mmio devices on microvm, PCI ones on pc, and KVM only when asked', () => {
    expect(values(qemuArgs(plan), '-device')).toEqual(expect.arrayContaining(['virtio-blk-device,drive=root', 'virtio-serial-device']));
    expect(values(qemuArgs({ ...plan, machine: 'pc' }), '-device')).toEqual(expect.arrayContaining(['virtio-blk-pci,drive=root', 'virtio-serial-pci']));
    expect([busOf('microvm'), busOf('pc')]).toEqual(['mmio', 'pci']);
    expect(values(qemuArgs(plan), '-accel')).toEqual(['tcg']);
    const kvm = qemuArgs({ ...plan, accel: 'kvm' });
    expect(kvm).toContain('-enable-kvm');
    expect(values(kvm, '-cpu')).toEqual(['host']);
  });

  it('doubles commas in paths inside option lists and refuses socket paths a unix socket cannot hold', () => {
    expect(values(qemuArgs({ ...plan, rootImage: '/a,b/root.squashfs' }), '-drive')[0]).toContain('file=/a,,b/root.squashfs,');
    const long = `/tmp/${'x'.repeat(100)}/agent.sock`;
    expect(() => qemuArgs({ ...plan, agentSocket: long })).toThrow(/qemu agent socket path is 116 bytes, over the 107 a unix socket allows: .* \(set TMPDIR to a shorter directory\)/);
  });
});

describe('kernel command line', () => {
  it('has the console, exits on panic, the preset words, the TSC rate only when known, and tells /init the bus and the granted capabilities', () => {
    expect(kernelCommandLine([], guestKernelParams({ bus: 'mmio', execCaps: [] }), null)).toBe('console=ttyS0 panic=-1 rigor.bus=mmio');
    expect(kernelCommandLine(['quiet', 'loglevel=4'], guestKernelParams({ bus: 'pci', execCaps: [0, 12] }), 2596122)).toBe(
      'console=ttyS0 panic=-1 quiet loglevel=4 tsc_early_khz=2596122 rigor.bus=pci rigor.exec_caps=0,12',
    );
    expect(guestKernelParams({ bus: 'mmio', execCaps: [], net: true })).toEqual(['rigor.bus=mmio', 'rigor.net=1']);
  });
});

describe('capabilityNumbers', () => {
  it('maps names to the kernel numbers, sorted and deduplicated, and names an unknown one', () => {
    expect(capabilityNumbers(['CAP_NET_ADMIN', 'CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_CHECKPOINT_RESTORE'])).toEqual([0, 12, 40]);
    expect(() => capabilityNumbers(['CAP_NET_ADMIN', 'CAP_FLY'])).toThrow('sandbox spec capabilities: expected Linux capability names like CAP_NET_ADMIN, found "CAP_FLY"');
  });
});

describe('hostTscKhz', () => {
  const cpuinfo = (flags: string) => `processor\t: 0\ncpu MHz\t\t: 2596.122\nflags\t\t: fpu tsc ${flags}\n`;

  it('trusts cpu MHz as the TSC rate only for a constant TSC whose rate nothing else reports', () => {
    expect(hostTscKhz(cpuinfo('constant_tsc tsc_known_freq'), true)).toBe(2596122);
    expect(hostTscKhz(cpuinfo('constant_tsc'), false)).toBe(2596122);
    // a cpufreq driver or APERF/MPERF makes "cpu MHz" the current clock, not the TSC's
    expect(hostTscKhz(cpuinfo('constant_tsc'), true)).toBeNull();
    expect(hostTscKhz(cpuinfo('constant_tsc aperfmperf'), false)).toBeNull();
    expect(hostTscKhz(cpuinfo('tsc_known_freq'), false)).toBeNull();
    expect(hostTscKhz('flags\t: constant_tsc\n', false)).toBeNull();
  });
});
