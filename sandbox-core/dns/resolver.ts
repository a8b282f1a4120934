import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { AUTHORITATIVE_ANSWER, RECURSION_DESIRED, TRUNCATED_RESPONSE, decode, encode, type Packet } from 'dns-packet';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Resolved } from '../proxy/decide.ts';
import { ALLOW_ALL, resolveQuery, type DnsDecide, type Resolution } from './resolve-query.ts';
import { DnsFrameReader, frameDnsMessage } from './tcp-frames.ts';
import { buildZone } from './zone.ts';

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
  /** UDP and TCP port on 127.0.0.1; default 0 (a free port, the same for both). */
  port?: number;
  /** Also serve DNS over TCP framing (RFC 1035 §4.2.2) on this unix socket: how sandboxes with no network reach it. */
  socketPath?: string;
  /** A TCP client (port or unix socket) that holds a connection this long without sending is cut off, ms. Default 10000. */
  tcpIdleMs?: number;
}

/** Counters since the resolver started, UDP and TCP together. */
export interface DnsResolverStats {
  /** Queries answered, blocked ones included. */
  queries: number;
  /** Messages dropped because they were not a standard query of one IN question with a plain name (see readQuery). */
  malformed: number;
  /** Queries answered SERVFAIL because the audit record could not be written. */
  auditFailures: number;
}

/** A running resolver. */
export interface DnsResolver {
  port: number;
  address: string;
  /**
   * The egress proxy's lookups: the same zone, policy and audit as a sandbox's own queries (kind `dns`, with
   * `detail.via: 'proxy'`), so no name the proxy connects to escapes the `dns.query` rules. Asks A, then AAAA
   * when A has nothing; each question asked is one audit event. Throws when a record cannot be written.
   */
  lookup(name: string): Resolved;
  /** Stops listening and drops open TCP connections; resolves once both sockets are closed. */
  close(): Promise<void>;
  stats(): DnsResolverStats;
}

const HOST = '127.0.0.1';
const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
// RFC 1035 §4.2.1: a UDP answer larger than this is truncated and the client retries over TCP.
const MAX_UDP_RESPONSE = 512;
const MAX_TCP_RESPONSE = 65_535;
// A TCP client that sends queries but does not read the answers is cut off past this much unread output.
const MAX_UNREAD_TCP_BYTES = 1 << 20;
// When port 0 gives a UDP port whose TCP twin is taken, another free port is tried, this many times.
const BIND_ATTEMPTS = 5;

/**
 * Starts the sandbox DNS resolver on 127.0.0.1, UDP and TCP on one port: it
 * answers A and AAAA from the local zone, applies the `dns.query` policy (a
 * blocked name is NXDOMAIN) and records every query in the audit database.
 * A message it cannot read as one standard query is dropped and counted,
 * never answered. A UDP answer over 512 bytes is sent truncated (TC), which
 * sends the client to TCP for the whole answer.
 * @throws Error when a zone address is not an IP address or the port cannot be bound.
 */
export async function startDnsResolver(options: DnsResolverOptions): Promise<DnsResolver> {
  const zone = buildZone(options.zone);
  const decide = options.decide ?? ALLOW_ALL;
  const sandbox = options.sandbox ?? null;
  const stats: DnsResolverStats = { queries: 0, malformed: 0, auditFailures: 0 };

  /** The response to one message, or undefined when the message is dropped. */
  const answer = (message: Buffer, maxSize: number): Buffer | undefined => {
    const query = readQuery(message);
    if (!query) {
      stats.malformed++;
      return undefined;
    }
    const [question] = query.questions;
    const resolution = resolveQuery(question.name, question.type, zone, decide);
    let response = encodeResponse(query, resolution, maxSize);
    try {
      options.audit?.record(auditRecord(resolution, sandbox, response.truncated));
    } catch {
      // An attempt that cannot be audited is not answered with data: events must equal attempts.
      stats.auditFailures++;
      response = encodeResponse(query, { ...resolution, rcode: 'SERVFAIL', answers: [] }, maxSize);
    }
    stats.queries++;
    return response.bytes;
  };

  const onDatagram = (udp: UdpSocket) => (message: Buffer, remote: RemoteInfo) => {
    const response = answer(message, MAX_UDP_RESPONSE);
    // A send error (the client went away) concerns that client only; the resolver keeps serving.
    if (response) udp.send(response, remote.port, remote.address, () => {});
  };

  const connections = new Set<TcpSocket>();
  const onConnection = (connection: TcpSocket) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    // A reset by the client concerns that connection only.
    connection.on('error', () => {});
    connection.setTimeout(options.tcpIdleMs ?? 10_000, () => connection.destroy());
    // Each write is a whole answer: Nagle would hold the second of two answers until the client's delayed ACK (40 ms).
    connection.setNoDelay(true);
    const reader = new DnsFrameReader();
    connection.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        const response = answer(message, MAX_TCP_RESPONSE);
        if (response) connection.write(frameDnsMessage(response));
      }
      if (connection.writableLength > MAX_UNREAD_TCP_BYTES) connection.destroy();
    });
  };

  const { udp, tcp } = await bindBoth(options.port ?? 0, onDatagram, onConnection);
  // After binding, UDP socket errors are per-datagram (ICMP unreachable and the like): nothing to stop for.
  udp.on('error', () => {});
  tcp.on('error', () => {});
  let unix: Server | undefined;
  if (options.socketPath !== undefined) {
    const path = options.socketPath;
    unix = createServer(onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        unix!.once('error', reject);
        // Sandboxes run as unprivileged uids of their own: any of them may connect (the TCP port is as open).
        unix!.listen({ path, readableAll: true, writableAll: true }, () => {
          unix!.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await Promise.all([closeUdp(udp), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
      throw new Error(`startDnsResolver: cannot listen on socketPath ${path}: ${(error as Error).message}`, { cause: error });
    }
    unix.on('error', () => {});
  }
  const unixServer = unix;

  const lookup = (name: string): Resolved => {
    for (const type of ['A', 'AAAA']) {
      const resolution = resolveQuery(name, type, zone, decide);
      const record = auditRecord(resolution, sandbox, false);
      options.audit?.record({ ...record, detail: { ...record.detail, via: 'proxy' } });
      stats.queries++;
      if (resolution.decision.decision === 'block') return { refused: 'blocked', ruleId: resolution.decision.ruleId, reason: `${type} query blocked` };
      if (resolution.rcode === 'NXDOMAIN') return { refused: 'unknown', ruleId: null, reason: "not in the sandbox resolver's zone" };
      if (resolution.rcode === 'SERVFAIL') throw new Error(resolution.error ?? 'SERVFAIL');
      if (resolution.answers.length > 0) return { addresses: resolution.answers.map((answer) => String(answer.data)) };
    }
    return { refused: 'unknown', ruleId: null, reason: `${name} has no A or AAAA record in the sandbox resolver's zone` };
  };

  return {
    address: HOST,
    port: udp.address().port,
    lookup,
    stats: () => ({ ...stats }),
    close: async () => {
      for (const connection of connections) connection.destroy();
      const closeServer = (server: Server | undefined) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await Promise.all([closeUdp(udp), closeServer(tcp), closeServer(unixServer)]);
    },
  };
}

/** A UDP socket and a TCP server on the same port of {@link HOST}. */
async function bindBoth(
  port: number,
  onDatagram: (udp: UdpSocket) => (message: Buffer, remote: RemoteInfo) => void,
  onConnection: (connection: TcpSocket) => void,
): Promise<{ udp: UdpSocket; tcp: Server }> {
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket('udp4');
    udp.on('message', onDatagram(udp));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, HOST, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const tcp = createServer(onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udp.address().port, HOST, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp };
    } catch (error) {
      await closeUdp(udp);
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (port !== 0 || !taken || attempt === BIND_ATTEMPTS) throw error;
    }
  }
}

function closeUdp(udp: UdpSocket): Promise<void> {
  return new Promise((resolve) => udp.close(() => resolve()));
}

interface StandardQuery extends Packet {
  questions: [{ name: string; type: string }];
}

/** Printable ASCII labels of 1-63 bytes (or the root): what a host name is spelt with. */
const PLAIN_NAME = /^(?:[\x21-\x7e]{1,63}(?:\.[\x21-\x7e]{1,63})*|\.)$/;

/**
 * The message as a standard query with one question of class IN whose name is plain and which the response can ask
 * back byte for byte, or undefined when it is anything else. dns-packet reads a label's bytes as UTF-8 and joins
 * labels with dots, so a label holding a dot or a byte that is not ASCII would be answered as another name, and it
 * reads an unknown class as a name it then encodes as 0: the question re-encoded must be the bytes received.
 */
function readQuery(message: Buffer): StandardQuery | undefined {
  let packet: Packet;
  try {
    packet = decode(message);
  } catch {
    return undefined;
  }
  const question = packet.questions?.length === 1 ? packet.questions[0] : undefined;
  if (packet.type !== 'query' || packet.opcode !== 'QUERY' || typeof question?.name !== 'string') return undefined;
  if (!PLAIN_NAME.test(question.name) || question.class !== 'IN') return undefined;
  const asked = encode({ type: 'query', questions: [question] }).subarray(12);
  return asked.equals(message.subarray(12, 12 + asked.length)) ? (packet as StandardQuery) : undefined;
}

/** The response bytes; `truncated` when the answers did not fit in `maxSize` and were left out (TC set). */
function encodeResponse(query: StandardQuery, resolution: Resolution, maxSize: number): { bytes: Buffer; truncated: boolean } {
  const flags = AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RECURSION_DESIRED) | RCODES[resolution.rcode];
  const response: Packet = { id: query.id, type: 'response', flags, questions: query.questions, answers: resolution.answers };
  const full = encode(response);
  if (full.length <= maxSize) return { bytes: full, truncated: false };
  return { bytes: encode({ ...response, flags: flags | TRUNCATED_RESPONSE, answers: [] }), truncated: true };
}

function auditRecord(resolution: Resolution, sandbox: string | null, truncated: boolean) {
  const { query, rcode, answers, decision, error } = resolution;
  return {
    kind: 'dns' as const,
    sandbox,
    subject: query.name,
    detail: {
      type: query.type,
      rcode,
      answers: answers.map((answer) => answer.data),
      ...(truncated ? { truncated } : {}),
      ...(error === undefined ? {} : { error }),
    },
    ruleId: decision.ruleId,
    decision: decision.decision,
  };
}
