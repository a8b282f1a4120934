/**
 * The guest's /init: PID 1 of the initramfs, a busybox shell script. It
 * loads the virtio drivers, mounts the read-only root image (squashfs on
 * the first virtio disk) with a tmpfs workspace and /tmp, brings up lo, and
 * switch_root hands PID 1 to the agent on the new root. Each step is stamped
 * on CLOCK_BOOTTIME by `rigor-agent --now` (/proc/uptime only has 10 ms
 * steps) and passed to the agent as a boot stage.
 *
 * What varies per sandbox comes on the kernel command line (guestKernelParams).
 */
import { EGRESS_ADDRESSES } from '../../backends/egress-env.ts';
import { AGENT_IN_ROOTFS } from '../busybox-rootfs.ts';

/** How the guest finds its virtio devices: virtio-mmio on qemu's microvm, PCI on pc. */
export type VirtioBus = 'mmio' | 'pci';

/** /init's first line on the console: the host stamps its arrival (launch → init on the host clock). */
export const INIT_MARKER = 'rigor-init up';

/** Commands run as this uid:gid (nobody:nogroup), which owns the workspace. */
export const GUEST_EXEC_UID = 65534;
const GUEST_EXEC_USER = `${GUEST_EXEC_UID}:${GUEST_EXEC_UID}`;
/** Where the workspace is mounted: the root image is read-only, so this mount point is the only one. */
export const GUEST_WORKSPACE = '/workspace';
/** Paths inside the initramfs. */
export const INITRAMFS_AGENT = '/bin/rigor-agent';
export const INITRAMFS_MODULES_DIR = '/lib/modules';

/**
 * The guest's network when the sandbox has egress: qemu's user network in
 * restricted mode, where the only reachable address is EGRESS_HOST, whose
 * ports qemu forwards to the host's proxy and resolver (qemu-args.ts).
 */
export const GUEST_NET = {
  interface: 'eth0',
  address: '10.0.2.15/24',
  egressHost: EGRESS_ADDRESSES.qemu.proxy.host,
  proxyPort: EGRESS_ADDRESSES.qemu.proxy.port,
  dnsPort: EGRESS_ADDRESSES.qemu.dns.port,
} as const;

/** Kernel modules per bus: `base` always, `net` after them when the sandbox has egress. */
export type GuestModules = Record<VirtioBus, { base: readonly string[]; net: readonly string[] }>;

export interface GuestParams {
  bus: VirtioBus;
  /** Bring up the virtio network device (egress); default off: no device, no driver. */
  net?: boolean;
  /** Capability numbers the agent leaves to commands; none by default. */
  execCaps: readonly number[];
  /** Size of the workspace tmpfs; default the kernel's (half the guest's RAM). */
  workspaceMiB?: number;
  /** Processes and threads the commands may have together (the agent's --exec-nproc); default no limit. */
  pidsLimit?: number;
}

/** Kernel command line words that tell /init what this sandbox is. */
export function guestKernelParams(params: GuestParams): string[] {
  const words = [`rigor.bus=${params.bus}`];
  if (params.net) words.push('rigor.net=1');
  if (params.execCaps.length > 0) words.push(`rigor.exec_caps=${params.execCaps.join(',')}`);
  if (params.workspaceMiB !== undefined) words.push(`rigor.workspace_mib=${params.workspaceMiB}`);
  if (params.pidsLimit !== undefined) words.push(`rigor.pids_max=${params.pidsLimit}`);
  return words;
}

/** The /init text; `modules` are file names under INITRAMFS_MODULES_DIR in load order, per bus. */
export function initScript(modules: GuestModules): string {
  const [uid, gid] = GUEST_EXEC_USER.split(':');
  return `#!/bin/busybox sh
# rigor guest init (sandbox-core/images/guest/init-script.ts): drivers, read-only root,
# workspace, lo, then the agent as PID 1. Stages are CLOCK_BOOTTIME ms.
kernel_to_init=$(${INITRAMFS_AGENT} --now)
echo "${INIT_MARKER}"
export PATH=/bin
fail() {
  echo "rigor-init: $*"
  poweroff -f
}
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
bus=mmio
exec_caps=
net=
workspace_size=
pids_max=
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
  case $arg in
  rigor.bus=*) bus=\${arg#*=} ;;
  rigor.exec_caps=*) exec_caps=\${arg#*=} ;;
  rigor.net=*) net=\${arg#*=} ;;
  rigor.workspace_mib=*) workspace_size=,size=\${arg#*=}m ;;
  rigor.pids_max=*) pids_max=\${arg#*=} ;;
  esac
done
case $bus in
mmio) modules="${modules.mmio.base.join(' ')}" net_modules="${modules.mmio.net.join(' ')}" ;;
pci) modules="${modules.pci.base.join(' ')}" net_modules="${modules.pci.net.join(' ')}" ;;
*) fail "rigor.bus=$bus: expected mmio or pci" ;;
esac
[ "$net" = 1 ] && modules="$modules $net_modules"
for module in $modules; do
  insmod ${INITRAMFS_MODULES_DIR}/$module || fail "insmod $module"
done
modules_loaded=$(rigor-agent --now)
mount -t squashfs -o ro /dev/vda /newroot || fail "mount the root image from /dev/vda"
mount -t tmpfs -o mode=0755,uid=${uid},gid=${gid}\$workspace_size workspace /newroot${GUEST_WORKSPACE} || fail "mount ${GUEST_WORKSPACE}"
mount -t tmpfs -o mode=1777 tmp /newroot/tmp || fail "mount /tmp"
for fs in dev proc sys; do
  mount --move /$fs /newroot/$fs || fail "move /$fs"
done
mounts_done=$(rigor-agent --now)
ip link set lo up || fail "bring up lo"
if [ "$net" = 1 ]; then
  # No route and no gateway: the egress host is on the link, and qemu (restrict=on) forwards nothing else.
  ip addr add ${GUEST_NET.address} dev ${GUEST_NET.interface} || fail "address ${GUEST_NET.interface}"
  ip link set ${GUEST_NET.interface} up || fail "bring up ${GUEST_NET.interface}"
fi
network_done=$(rigor-agent --now)
# The agent's cwd is the workspace, as on the other backends; the shell execs it, so it is PID 1.
exec switch_root /newroot /bin/sh -c 'cd ${GUEST_WORKSPACE} && exec ${AGENT_IN_ROOTFS} "$@"' rigor-agent \\
  --init --port auto --exec-user ${GUEST_EXEC_USER} \${exec_caps:+--exec-caps $exec_caps} \${pids_max:+--exec-nproc $pids_max} \\
  --stage kernel_to_init=$kernel_to_init --stage modules_loaded=$modules_loaded \\
  --stage mounts_done=$mounts_done --stage network_done=$network_done
`;
}
