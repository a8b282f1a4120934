import { isIPv4, isIPv6 } from 'node:net';

/** The addresses of one name, split by record type. */
export interface ZoneEntry {
  a: string[];
  aaaa: string[];
}

/** A local zone keyed by {@link normalizeName}d names. */
export type Zone = ReadonlyMap<string, ZoneEntry>;

/** Lower case without the trailing dot: DNS names compare case-insensitively, and `a.test.` is `a.test`. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Builds a {@link Zone} from name → addresses, each address IPv4 (an A
 * record) or IPv6 (an AAAA record).
 * @throws Error naming the name and the address when an address is neither.
 */
export function buildZone(names: ReadonlyMap<string, readonly string[]>): Zone {
  const zone = new Map<string, ZoneEntry>();
  for (const [name, addresses] of names) {
    const key = normalizeName(name);
    const entry = zone.get(key) ?? { a: [], aaaa: [] };
    for (const address of addresses) {
      if (isIPv4(address)) entry.a.push(address);
      else if (isIPv6(address)) entry.aaaa.push(address);
      else throw new Error(`DNS zone: name ${JSON.stringify(name)}: expected an IPv4 or IPv6 address, found ${JSON.stringify(address)}`);
    }
    zone.set(key, entry);
  }
  return zone;
}
