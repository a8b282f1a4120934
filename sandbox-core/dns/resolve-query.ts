import type { Answer } from 'dns-packet';
import type { AuditDecision } from '../audit/audit-log.ts';
import { normalizeName, type Zone } from './zone.ts';

/** A DNS question as the policy sees it: the name lower-cased without a trailing dot, the type as `A`, `AAAA`, `MX`... */
export interface DnsQuery {
  name: string;
  type: string;
}

/** The policy's verdict on a query: `block` answers NXDOMAIN; `allow` and `log` answer from the zone. */
export interface DnsDecision {
  decision: AuditDecision;
  /** The rule that matched; null when the default decision applied. */
  ruleId: string | null;
}

/** The policy hook the resolver calls for every query (the `dns.query` rules of the policy engine). */
export type DnsDecide = (query: DnsQuery) => DnsDecision;

/** How a query was answered, for the response and for the audit record. */
export interface Resolution {
  query: DnsQuery;
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';
  answers: Answer[];
  decision: DnsDecision;
  /** Why the answer is SERVFAIL, when it is. */
  error?: string;
}

/** Without a policy every query is allowed. */
export const ALLOW_ALL: DnsDecide = () => ({ decision: 'allow', ruleId: null });

// TTL 0: guests must not cache an answer past a rule change that would block the name.
const TTL = 0;

/**
 * Answers one question: the policy first (a blocked name is NXDOMAIN even
 * when it is in the zone), then the zone (an unknown name is NXDOMAIN, a
 * known name without records of the asked type is an empty NOERROR).
 * A policy hook that throws fails closed: SERVFAIL, recorded as a block.
 */
export function resolveQuery(name: string, type: string, zone: Zone, decide: DnsDecide): Resolution {
  const query = { name: normalizeName(name), type };
  let decision: DnsDecision;
  try {
    decision = decide(query);
  } catch (error) {
    return { query, rcode: 'SERVFAIL', answers: [], decision: { decision: 'block', ruleId: null }, error: `policy failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const entry = zone.get(query.name);
  if (decision.decision === 'block' || !entry) return { query, rcode: 'NXDOMAIN', answers: [], decision };
  const addresses = type === 'A' ? entry.a : type === 'AAAA' ? entry.aaaa : [];
  // The answer carries the name as asked, so that a client matching it case-sensitively accepts it.
  const answers = addresses.map((data) => ({ name, type, class: 'IN', ttl: TTL, data }));
  return { query, rcode: 'NOERROR', answers, decision };
}
