/**
 * The qemu-system-x86_64 command line for one guest, as a pure function of
 * the plan. Without egress, no network device at all: the only ways in and
 * out are the agent's virtio-serial port, QMP and the serial console (on
 * qemu's stdout, which the host reads: it timestamps /init's first line and
 * keeps the text for errors). With egress, one virtio-net device on qemu's user network in
 * restricted mode (no route to the host or beyond), where the only thing
 * that answers is a guestfwd per egress port: each guest connection to it
 * starts `rigor-agent --relay <unix socket>` on the host, joined to the
 * host's proxy or resolver. With `relaySlots`, `--slots DIR --max N` too:
 * the relays of both ports share N slots, and one that finds none free
 * closes its connection unrelayed (../../agent/PROTOCOL.md).
 *
 * The agent's chardev is `wait=on`: qemu does not start the guest until the
 * host is connected. The guest agent reads end of file from a virtio port
 * whose host side is not connected and would power off, so connecting
 * after the guest reached its agent must never be possible.
 */
import { GUEST_NET, type VirtioBus } from '../../images/guest/init-script.ts';

export type Machine = 'microvm' | 'pc';
export const MACHINES: readonly Machine[] = ['microvm', 'pc'];
/** The highest relay cap `rigor-agent --relay --max` takes (MAX_RELAY_SLOTS in agent.c: a refused relay tries every slot). */
export const MAX_RELAY_CAP = 1024;
export type Accel = 'kvm' | 'tcg';

export interface QemuPlan {
  machine: Machine;
  accel: Accel;
  memoryMiB: number;
  kernel: string;
  initramfs: string;
  /** Read-only root image (squashfs), the guest's /dev/vda. */
  rootImage: string;
  /** Kernel command line. */
  append: string;
  agentSocket: string;
  qmpSocket: string;
  /** Where qemu writes its pid once it runs (the host stamps `launched` when it appears: pid-file.ts). */
  pidFile: string;
  /**
   * Guest RAM in this file (on a tmpfs: shmem pages, as a memfd's), mapped shared, so a snapshot saves
   * the devices' state alone (x-ignore-shared) and copies the file; without it, an anonymous memfd.
   */
  ramFile?: string;
  /** Start paused, waiting for a migration stream (`-incoming defer`, then QMP migrate-incoming): a restore. */
  incoming?: boolean;
  /**
   * The guest's way out: the agent binary on the host that relays, and the unix sockets it relays to;
   * `relaySlots`, the relays' slot directory and how many may run at once (no cap without it).
   */
  egress?: { relay: string; proxySocket: string; dnsSocket?: string; relaySlots?: { dir: string; max: number } };
}

/** Which virtio transport the guest kernel must load for a machine. */
export function busOf(machine: Machine): VirtioBus {
  return machine === 'microvm' ? 'mmio' : 'pci';
}

/**
 * Kernel command line: what the sandbox needs whatever the preset — the
 * serial console, exit on panic, the TSC rate when known (tsc.ts: without it
 * a TCG guest on microvm hung in 1 boot of 2), the words for /init — around
 * a preset's words (kernel/cmdline/*.txt: quiet and the like, each with its
 * reason; the kernel-boot rig compares them).
 */
export function kernelCommandLine(presetWords: readonly string[], guestParams: readonly string[], tscKhz: number | null): string {
  const tsc = tscKhz === null ? [] : [`tsc_early_khz=${tscKhz}`];
  return ['console=ttyS0', 'panic=-1', ...presetWords, ...tsc, ...guestParams].join(' ');
}

/** A value inside a qemu option list, where a comma separates options unless doubled. */
function optionValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** A guestfwd `cmd:` is split into words by qemu (as a shell would): paths with blanks or quotes cannot be said safely. */
const PLAIN_WORD = /^[A-Za-z0-9_./+-]+$/;

/** `-netdev user` in restricted mode with one guestfwd per egress socket, and its virtio-net device. */
function egressArgs(egress: NonNullable<QemuPlan['egress']>, device: string): string[] {
  const forwards: Array<{ port: number; socket: string }> = [{ port: GUEST_NET.proxyPort, socket: egress.proxySocket }];
  if (egress.dnsSocket !== undefined) forwards.push({ port: GUEST_NET.dnsPort, socket: egress.dnsSocket });
  const slots = egress.relaySlots;
  if (slots !== undefined && !(Number.isInteger(slots.max) && slots.max >= 1 && slots.max <= MAX_RELAY_CAP)) throw new Error(`qemu egress: relay cap ${slots.max} is not a whole number from 1 to ${MAX_RELAY_CAP}`);
  for (const path of [egress.relay, ...forwards.map((forward) => forward.socket), ...(slots ? [slots.dir] : [])]) {
    if (!PLAIN_WORD.test(path)) throw new Error(`qemu egress: ${JSON.stringify(path)} has characters a guestfwd command cannot carry; expected letters, digits and _ . / + - (set TMPDIR or XDG_CACHE_HOME to a plainer directory)`);
  }
  const cap = slots ? ` --slots ${slots.dir} --max ${slots.max}` : '';
  const guestfwd = forwards.map((forward) => `guestfwd=tcp:${GUEST_NET.egressHost}:${forward.port}-cmd:${egress.relay} --relay ${forward.socket}${cap}`);
  const netdev = ['user', 'id=egress', 'restrict=on', 'ipv6=off', ...guestfwd.map(optionValue)].join(',');
  return ['-netdev', netdev, '-device', `virtio-net-${device},netdev=egress`];
}

function ramBackend(plan: QemuPlan): string {
  const size = `size=${plan.memoryMiB}M`;
  return plan.ramFile === undefined ? `memory-backend-memfd,id=ram,${size}` : `memory-backend-file,id=ram,${size},mem-path=${optionValue(plan.ramFile)},share=on`;
}

export function qemuArgs(plan: QemuPlan): string[] {
  const device = plan.machine === 'microvm' ? 'device' : 'pci';
  for (const [name, path] of [['agent socket', plan.agentSocket], ['QMP socket', plan.qmpSocket]] as const) {
    // sun_path holds 108 bytes with its terminator
    if (Buffer.byteLength(path) > 107) throw new Error(`qemu ${name} path is ${Buffer.byteLength(path)} bytes, over the 107 a unix socket allows: ${path} (set TMPDIR to a shorter directory)`);
  }
  return [
    // guest RAM in 4 KiB shmem pages: qemu's default anonymous RAM is marked for transparent huge pages
    ...['-M', `${plan.machine},memory-backend=ram`, '-object', ramBackend(plan)],
    ...(plan.accel === 'kvm' ? ['-enable-kvm', '-cpu', 'host'] : ['-accel', 'tcg']),
    ...['-m', `${plan.memoryMiB}M`, '-smp', '1'],
    ...['-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-pidfile', plan.pidFile],
    ...(plan.egress ? egressArgs(plan.egress, device) : ['-nic', 'none']),
    ...['-kernel', plan.kernel, '-initrd', plan.initramfs, '-append', plan.append],
    ...['-drive', `if=none,id=root,file=${optionValue(plan.rootImage)},format=raw,readonly=on`, '-device', `virtio-blk-${device},drive=root`],
    ...['-chardev', `socket,id=qmp,path=${optionValue(plan.qmpSocket)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control'],
    ...['-device', `virtio-serial-${device}`],
    ...['-chardev', `socket,id=agent,path=${optionValue(plan.agentSocket)},server=on,wait=on`],
    ...['-device', 'virtserialport,chardev=agent,name=rigor.agent'],
    ...['-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console'],
    ...(plan.incoming ? ['-incoming', 'defer'] : []),
  ];
}
