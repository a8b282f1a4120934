import { createSocket, type RemoteInfo } from 'node:dgram';
import { AUTHORITATIVE_ANSWER, RECURSION_DESIRED, TRUNCATED_RESPONSE, decode, encode, type Packet } from 'dns-packet';
import type { AuditLog } from '../audit/audit-log.ts';
import { ALLOW_ALL, resolveQuery, type DnsDecide, type Resolution } from './resolve-query.ts';
import { buildZone, type Zone } from './zone.ts';

/** Options of {@link startDnsResolver}. */
export interface DnsResolverOptions {
  /** The local zone: name → IPv4/IPv6 addresses. Names outside it are NXDOMAIN (there is no upstream). */
  zone: ReadonlyMap<string, readonly string[]>;
  /** The `dns.query` policy; default: allow everything. */
  decide?: DnsDecide;
  /** Where every answered query is recorded (kind `dns`); default: nowhere. */
  audit?: AuditLog;
  /** The sandbox this resolver serves, written in each audit record; default: null. */
  sandbox?: string;
  /** UDP port on 127.0.0.1; default 0 (any free port). */
  port?: number;
}

/** Counters since the resolver started. */
export interface DnsResolverStats {
  /** Queries answered, blocked ones included. */
  queries: number;
  /** Packets dropped because they were not a single-question standard query. */
  malformed: number;
  /** Queries answered SERVFAIL because the audit record could not be written. */
  auditFailures: number;
}

/** A running resolver. */
export interface DnsResolver {
  port: number;
  address: string;
  /** Stops listening; resolves once the socket is closed. */
  close(): Promise<void>;
  stats(): DnsResolverStats;
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
// RFC 1035 §4.2.1: a UDP answer larger than this is truncated and the client retries over TCP.
const MAX_UDP_RESPONSE = 512;

/**
 * Starts the sandbox DNS resolver on UDP 127.0.0.1: it answers A and AAAA
 * from the local zone, applies the `dns.query` policy (a blocked name is
 * NXDOMAIN) and records every query in the audit database. A packet it
 * cannot read as one standard query is dropped and counted, never answered.
 * @throws Error when a zone address is not an IP address or the port cannot be bound.
 */
export async function startDnsResolver(options: DnsResolverOptions): Promise<DnsResolver> {
  const zone = buildZone(options.zone);
  const decide = options.decide ?? ALLOW_ALL;
  const stats: DnsResolverStats = { queries: 0, malformed: 0, auditFailures: 0 };
  const socket = createSocket('udp4');

  socket.on('message', (message: Buffer, remote: RemoteInfo) => {
    const query = readQuery(message);
    if (!query) {
      stats.malformed++;
      return;
    }
    const [question] = query.questions;
    let resolution = resolveQuery(question.name, question.type, zone, decide);
    try {
      options.audit?.record(auditRecord(resolution, options.sandbox ?? null));
    } catch (error) {
      // An attempt that cannot be audited is not answered with data: events must equal attempts.
      stats.auditFailures++;
      resolution = { ...resolution, rcode: 'SERVFAIL', answers: [], error: `audit failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    stats.queries++;
    // A send error (the client went away) concerns that client only; the resolver keeps serving.
    socket.send(encodeResponse(query, resolution), remote.port, remote.address, () => {});
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // After binding, UDP socket errors are per-datagram (ICMP unreachable and the like): nothing to stop for.
  socket.on('error', () => {});

  const { address, port } = socket.address();
  return {
    address,
    port,
    stats: () => ({ ...stats }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

interface StandardQuery extends Packet {
  questions: [{ name: string; type: string }];
}

/** The packet as a standard query with one question, or undefined when it is anything else. */
function readQuery(message: Buffer): StandardQuery | undefined {
  let packet: Packet;
  try {
    packet = decode(message);
  } catch {
    return undefined;
  }
  const ok = packet.type === 'query' && packet.opcode === 'QUERY' && packet.questions?.length === 1 && typeof packet.questions[0]?.name === 'string';
  return ok ? (packet as StandardQuery) : undefined;
}

function encodeResponse(query: StandardQuery, resolution: Resolution): Buffer {
  const flags = AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RECURSION_DESIRED) | RCODES[resolution.rcode];
  const response: Packet = { id: query.id, type: 'response', flags, questions: query.questions, answers: resolution.answers };
  const full = encode(response);
  if (full.length <= MAX_UDP_RESPONSE) return full;
  return encode({ ...response, flags: flags | TRUNCATED_RESPONSE, answers: [] });
}

function auditRecord(resolution: Resolution, sandbox: string | null) {
  const { query, rcode, answers, decision, error } = resolution;
  return {
    kind: 'dns' as const,
    sandbox,
    subject: query.name,
    detail: { type: query.type, rcode, answers: answers.map((answer) => answer.data), ...(error === undefined ? {} : { error }) },
    ruleId: decision.ruleId,
    decision: decision.decision,
  };
}
