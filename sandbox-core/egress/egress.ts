/**
 * One sandbox's egress path started from files: the YAML policy, the audit
 * database, the proxy and the resolver, all judged by the same engine.
 */
import { AuditLog } from '../audit/audit-log.ts';
import { startDnsResolver, type DnsResolver } from '../dns/resolver.ts';
import { loadPolicy, PolicyEngine } from '../policy/index.ts';
import { defaultCaDir, loadOrCreateCa, startProxy, type RunningProxy } from '../proxy/index.ts';
import { policyDeciders, type PolicyDeciders } from './deciders.ts';

export interface EgressOptions {
  policyPath: string;
  auditPath: string;
  /** The resolver's zone: name → addresses. */
  zone: ReadonlyMap<string, readonly string[]>;
  mode: 'tunnel' | 'intercept';
  /** PEM CAs trusted for upstream TLS instead of the system store. */
  upstreamCa?: string[];
  /** Where the interception CA lives (used in 'intercept' mode); default {@link defaultCaDir}. */
  caDir?: string;
  /** The sandbox written in every audit record; default null. */
  sandbox?: string;
  /** Also serve the proxy on this unix socket: what a bwrap sandbox's `spec.egress.proxySocket` names. */
  proxySocket?: string;
  /** Also serve the resolver (DNS over TCP) on this unix socket: what `spec.egress.dnsSocket` names. */
  dnsSocket?: string;
}

export interface Egress {
  proxy: RunningProxy;
  dns: DnsResolver;
  engine: PolicyEngine;
  audit: AuditLog;
  /** The hooks the proxy and resolver use, and `exec` for process starts, writing to `audit`. */
  deciders: PolicyDeciders;
  /** Stops the proxy and the resolver, then closes the audit database. */
  close(): Promise<void>;
}

/**
 * Loads the policy, opens the audit database and starts the proxy and the
 * resolver with hooks that judge and audit every attempt once.
 * @throws PolicyError when the policy file is invalid; Error when the audit database cannot be opened or a port bound.
 */
export async function startEgress(options: EgressOptions): Promise<Egress> {
  const engine = new PolicyEngine(loadPolicy(options.policyPath));
  const audit = AuditLog.open(options.auditPath);
  const deciders = policyDeciders(engine, { audit, sandbox: options.sandbox ?? null });
  let proxy: RunningProxy | undefined;
  let dns: DnsResolver | undefined;
  try {
    const ca = options.mode === 'intercept' ? await loadOrCreateCa(options.caDir ?? defaultCaDir()) : undefined;
    // The resolver first: the proxy looks names up through it (zone, dns.query rules, audit), never the host's.
    dns = await startDnsResolver({
      zone: options.zone,
      decide: deciders.dns,
      audit,
      sandbox: options.sandbox,
      ...(options.dnsSocket ? { socketPath: options.dnsSocket } : {}),
    });
    const resolver = dns;
    proxy = await startProxy({
      mode: options.mode,
      ca,
      decide: deciders.http,
      resolve: (name) => resolver.lookup(name),
      upstreamCa: options.upstreamCa,
      ...(options.proxySocket ? { socketPath: options.proxySocket } : {}),
    });
    const running = proxy;
    return {
      proxy: running,
      dns: resolver,
      engine,
      audit,
      deciders,
      async close() {
        await Promise.all([running.close(), resolver.close()]);
        audit.close();
      },
    };
  } catch (error) {
    // Half started is not started: release what did start.
    await proxy?.close();
    await dns?.close();
    audit.close();
    throw error;
  }
}
