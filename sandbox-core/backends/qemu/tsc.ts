/**
 * The host's TSC rate, handed to a TCG guest as `tsc_early_khz`. Under TCG
 * the guest's TSC runs at the host's rate, and microvm has no HPET or ACPI
 * PM timer: when the guest's quick PIT calibration misses (its vCPU
 * descheduled on a loaded host, seen 1 boot in 2 with both cores busy) the
 * kernel marks the TSC unstable and hangs. With the rate given, it never
 * calibrates.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * kHz from /proc/cpuinfo's "cpu MHz", only where that is the TSC's rate: a
 * constant TSC, and either a frequency the kernel knows (tsc_known_freq) or
 * no cpufreq driver and no APERF/MPERF to report a current clock instead.
 * Null otherwise: the guest then calibrates on its own.
 */
export function hostTscKhz(cpuinfo: string, cpufreqPresent: boolean): number | null {
  const flags = new Set(/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? []);
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1]);
  if (!flags.has('constant_tsc') || !(mhz > 0)) return null;
  const known = flags.has('tsc_known_freq') || (!cpufreqPresent && !flags.has('aperfmperf'));
  return known ? Math.round(mhz * 1000) : null;
}

export function readHostTscKhz(): number | null {
  try {
    return hostTscKhz(readFileSync('/proc/cpuinfo', 'utf8'), existsSync('/sys/devices/system/cpu/cpu0/cpufreq'));
  } catch {
    return null;
  }
}
