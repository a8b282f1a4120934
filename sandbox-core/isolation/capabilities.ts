/**
 * Linux capabilities by name and number (include/uapi/linux/capability.h,
 * 5.9+): every backend checks a spec's names against this one table, and the
 * agent's `--exec-caps` takes the numbers.
 */

const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** Throws naming the field and the entry when a name is not a capability the kernel has (runc would drop it silently). */
export function checkCapabilities(names: readonly string[]): void {
  capabilityNumbers(names);
}

/** The numbers of the named capabilities, sorted; throws naming the field and the unknown name. */
export function capabilityNumbers(names: readonly string[]): number[] {
  const numbers = names.map((name) => {
    const number = (CAPABILITIES as readonly string[]).indexOf(name);
    if (number < 0) throw new Error(`sandbox spec capabilities: expected Linux capability names like CAP_NET_ADMIN, found ${JSON.stringify(name)}`);
    return number;
  });
  return [...new Set(numbers)].sort((a, b) => a - b);
}
