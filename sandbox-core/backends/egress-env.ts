/**
 * What every exec of a sandbox with egress is told about its way out: the
 * proxy in the variables curl, wget, pip, npm and most HTTP clients read, and
 * the resolver's address (a sandbox's resolver is reached over TCP on a
 * backend-specific address: port 53 cannot be bound in an unprivileged bwrap).
 */

/** The guest's address for the host side of qemu's restricted user network (images/guest/init-script.ts GUEST_NET). */
const QEMU_EGRESS_HOST = '10.0.2.100';

/**
 * Where a sandbox with egress reaches the proxy and the resolver, per backend:
 * bwrap's (and gvisor's) agent relays its own loopback ports (53 would need a capability);
 * qemu forwards two ports of an on-link address of the guest's network.
 */
export const EGRESS_ADDRESSES = {
  bwrap: { proxy: { host: '127.0.0.1', port: 3128 }, dns: { host: '127.0.0.1', port: 1053 } },
  gvisor: { proxy: { host: '127.0.0.1', port: 3128 }, dns: { host: '127.0.0.1', port: 1053 } },
  qemu: { proxy: { host: QEMU_EGRESS_HOST, port: 3128 }, dns: { host: QEMU_EGRESS_HOST, port: 53 } },
} as const;

export type EgressBackend = keyof typeof EGRESS_ADDRESSES;

/** The variable naming the sandbox resolver as IP:PORT (DNS over TCP). */
export const DNS_SERVER_ENV = 'RIGOR_DNS_SERVER';

/** `{ host: '127.0.0.1', port: 3128 }` → the environment of every exec. */
export function egressEnv(proxy: { host: string; port: number }, dns: { host: string; port: number } | undefined): Record<string, string> {
  const url = `http://${proxy.host}:${proxy.port}`;
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    ...(dns ? { [DNS_SERVER_ENV]: `${dns.host}:${dns.port}` } : {}),
  };
}

/** Checks `spec.egress` socket paths; throws naming the field. */
export function checkEgressSockets(egress: { proxySocket: string; dnsSocket?: string }): void {
  for (const [field, path] of [['proxySocket', egress.proxySocket], ['dnsSocket', egress.dnsSocket]] as const) {
    if (path !== undefined && !path.startsWith('/')) throw new Error(`sandbox spec egress.${field}: expected an absolute path, found ${JSON.stringify(path)}`);
  }
}
