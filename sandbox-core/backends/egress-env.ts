/**
 * What every exec of a sandbox with egress is told about its way out: the
 * proxy in the variables curl, wget, pip, npm and most HTTP clients read, and
 * the resolver's address (a sandbox's resolver is reached over TCP on a
 * backend-specific address: port 53 cannot be bound in an unprivileged bwrap).
 */

import { checkConnectable } from '../isolation/reachable.ts';

/** The guest's address for the host side of qemu's restricted user network (images/guest/init-script.ts GUEST_NET). */
const QEMU_EGRESS_HOST = '10.0.2.100';

/**
 * Where a sandbox with egress reaches the proxy and the resolver, per backend:
 * in bwrap, runc, gvisor, docker and podman the agent relays its own loopback ports to the
 * sockets bound in (53 would need a capability); qemu forwards two ports of
 * an on-link address of the guest's network.
 */
const AGENT_RELAYED = { proxy: { host: '127.0.0.1', port: 3128 }, dns: { host: '127.0.0.1', port: 1053 } } as const;

export const EGRESS_ADDRESSES = {
  bwrap: AGENT_RELAYED,
  runc: AGENT_RELAYED,
  gvisor: AGENT_RELAYED,
  docker: AGENT_RELAYED,
  podman: AGENT_RELAYED,
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

/** The spec with the egress variables under its own env (the spec's own win); unchanged without egress. */
export function withEgressEnv<S extends { egress?: { dnsSocket?: string }; env?: Record<string, string> }>(spec: S, backend: EgressBackend): S {
  if (!spec.egress) return spec;
  const { proxy, dns } = EGRESS_ADDRESSES[backend];
  return { ...spec, env: { ...egressEnv(proxy, spec.egress.dnsSocket ? dns : undefined), ...spec.env } };
}

/**
 * How a sandbox whose agent relays its loopback ports reaches the egress sockets: each host socket bound at a
 * path inside `dir`, and the agent's `--forward` arguments relaying the backend's ports to them. The sockets are
 * checked first: absolute, and connectable by the sandbox's unprivileged host uids.
 */
export async function agentRelays(
  egress: { proxySocket: string; dnsSocket?: string },
  backend: 'bwrap' | 'runc' | 'gvisor' | 'docker' | 'podman',
  dir: string,
): Promise<{ binds: Array<{ hostPath: string; sandboxPath: string }>; agentArgs: string[] }> {
  checkEgressSockets(egress);
  const addresses = EGRESS_ADDRESSES[backend];
  const binds: Array<{ hostPath: string; sandboxPath: string }> = [];
  const agentArgs: string[] = [];
  for (const [kind, socket] of [['proxy', egress.proxySocket], ['dns', egress.dnsSocket]] as const) {
    if (socket === undefined) continue;
    await checkConnectable(socket, `sandbox spec egress.${kind}Socket`);
    const sandboxPath = `${dir}/.rigor-${kind}.sock`;
    binds.push({ hostPath: socket, sandboxPath });
    agentArgs.push('--forward', `${addresses[kind].host}:${addresses[kind].port}=${sandboxPath}`);
  }
  return { binds, agentArgs };
}
