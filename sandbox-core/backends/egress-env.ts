/**
 * What every exec of a sandbox with egress is told about its way out: the
 * proxy in the variables curl, wget, pip, npm and most HTTP clients read, and
 * the resolver's address (a sandbox's resolver is reached over TCP on a
 * backend-specific address: port 53 cannot be bound in an unprivileged bwrap).
 */

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
