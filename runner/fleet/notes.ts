/** What a reader of a fleet record should know about its hosts, in words. Pure. */
import { listWords } from '../host/fingerprint.ts';
import type { FleetHost } from './record.ts';

/**
 * Hosts whose artifacts share one hardware fingerprint ran on one machine, or
 * on identical ones (simulated hosts, a cloned image): their numbers can
 * differ by host, not by hardware.
 */
export function sharedHardwareNotes(hosts: readonly FleetHost[]): string[] {
  const byFingerprint = new Map<string, string[]>();
  for (const host of hosts) {
    if (!host.fingerprint || !host.artifact) continue;
    byFingerprint.set(host.fingerprint, [...(byFingerprint.get(host.fingerprint) ?? []), host.name]);
  }
  return [...byFingerprint]
    .filter(([, names]) => names.length > 1)
    .map(
      ([fingerprint, names]) =>
        `${listWords(names)} share hardware fingerprint ${fingerprint} (CPU, flags, microcode, kernel build, DMI, memory): ` +
        'one machine, or identical ones; their host ids differ, their hardware does not',
    );
}
