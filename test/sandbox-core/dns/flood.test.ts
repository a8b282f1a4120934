/**
 * The sandbox DNS resolver under a query flood (issue 16, load). A process of
 * its own floods it over UDP (valid, blocked, unknown and junk messages, in
 * bursts, as fast as it can) and over TCP (clients pipelining rounds of 100
 * queries), and 200 TCP clients connect and send nothing. While the flood
 * runs, probe queries over UDP (with a stub resolver's resends) and over TCP
 * are each answered with the zone's address; every query the resolver
 * answered is in the audit exactly once (audit count = answered), every
 * pipelined TCP query is answered, and the idle connections are cut off (file
 * descriptors back to their start value). Counts, no clocks.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECURSION_DESIRED, decode, encode, type Packet } from 'dns-packet';
import { AuditLog } from '../../../sandbox-core/audit/audit-log.ts';
import type { DnsDecide } from '../../../sandbox-core/dns/resolve-query.ts';
import { startDnsResolver, type DnsResolver } from '../../../sandbox-core/dns/resolver.ts';
import { DnsFrameReader, frameDnsMessage } from '../../../sandbox-core/dns/tcp-frames.ts';
import { fdsBackTo, openFds } from '../../helpers/fds.ts';

const FLOODER = join(import.meta.dirname, 'fixtures', 'flooder.ts');
const ZONE = new Map([
  ['flood.test', ['10.0.0.1']],
  ['probe.test', ['10.9.9.9']],
  ['blocked.test', ['10.0.0.2']],
]);
const POLICY: DnsDecide = ({ name }) => (name === 'blocked.test' ? { decision: 'block', ruleId: 'no-blocked' } : { decision: 'allow', ruleId: null });

const IDLE_CONNECTIONS = 200;
/** Probes over each transport, one after another, while the flood runs (each waits behind a full socket buffer). */
const PROBES = 3;
/**
 * Resend a UDP probe after this long without an answer, at most this many times. The flood outruns the
 * resolver, so the kernel keeps its socket buffer full and takes an arriving datagram only as often as
 * the resolver frees a place: a probe gets in with odds of about service rate / arrival rate per send
 * (1 in 10 here, 1 in 40 on a loaded CI host, where 40 sends were once all dropped). 300 sends make
 * that a near certainty, still bounded; an answered probe stops resending.
 */
const PROBE_RESEND_MS = 100;
const PROBE_SENDS = 300;
const TCP_IDLE_MS = 2_000;

let dir: string;
let audit: AuditLog;
let resolver: DnsResolver;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-dns-flood-'));
  audit = AuditLog.open(join(dir, 'audit.sqlite'));
  resolver = await startDnsResolver({ zone: ZONE, decide: POLICY, audit, sandbox: 'flood', tcpIdleMs: TCP_IDLE_MS });
});
afterEach(async () => {
  await resolver.close();
  audit.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const query = (id: number, name: string) => encode({ id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type: 'A' }] });
const addresses = (packet: Packet | undefined) => packet?.answers?.map((record) => record.data);

async function tcpConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** One query over UDP, resent until answered; returns the answer (undefined after PROBE_SENDS) and the sends it took. */
async function udpProbe(socket: UdpSocket, answers: Packet[], id: number): Promise<{ answer: Packet | undefined; sends: number }> {
  for (let sends = 1; sends <= PROBE_SENDS; sends++) {
    socket.send(query(id, 'probe.test'), resolver.port, '127.0.0.1');
    for (let waited = 0; waited < PROBE_RESEND_MS; waited += 10) {
      await sleep(10);
      const answer = answers.find((packet) => packet.id === id);
      if (answer) return { answer, sends };
    }
  }
  return { answer: undefined, sends: PROBE_SENDS };
}

async function tcpProbe(id: number): Promise<Packet> {
  const socket = await tcpConnection(resolver.port);
  const reader = new DnsFrameReader();
  const answer = new Promise<Packet>((resolve) => socket.on('data', (chunk: Buffer) => {
    const [message] = reader.push(chunk);
    if (message) resolve(decode(message));
  }));
  socket.write(frameDnsMessage(query(id, 'probe.test')));
  try {
    return await answer;
  } finally {
    socket.destroy();
  }
}

describe('DNS resolver under a query flood', () => {
  it('keeps answering probes over UDP and TCP during the flood, audits every answered query once, and cuts idle connections off', async () => {
    const startFds = openFds();
    const flooder = spawn(process.execPath, ['--import', 'tsx', FLOODER, String(resolver.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    flooder.stderr!.on('data', (chunk: Buffer) => (err += chunk));
    const flooding = new Promise<void>((resolve) => flooder.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('flooding\n')) resolve();
    }));
    const exited = once(flooder, 'exit');
    await Promise.race([flooding, exited]);
    expect(out, err).toContain('flooding');

    const idle = await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => tcpConnection(resolver.port)));
    const idleClosed = Promise.all(idle.map((socket) => once(socket, 'close')));

    // The flood keeps going until every probe was answered.
    const probeAnswers: Packet[] = [];
    const probeSocket = createSocket('udp4');
    probeSocket.on('message', (message) => probeAnswers.push(decode(message)));
    await new Promise<void>((resolve) => probeSocket.bind(0, '127.0.0.1', resolve));
    let udpSends = 0;
    for (let p = 0; p < PROBES; p++) {
      const { answer, sends } = await udpProbe(probeSocket, probeAnswers, 40_000 + p);
      udpSends += sends;
      expect(answer, `UDP probe ${p} unanswered after ${PROBE_SENDS} sends`).toBeDefined();
      expect(addresses(answer)).toEqual(['10.9.9.9']);
      expect(addresses(await tcpProbe(p))).toEqual(['10.9.9.9']);
    }
    probeSocket.close();
    flooder.stdin!.end();
    const [code] = await exited;
    expect(code, err).toBe(0);
    const flood = JSON.parse(out.trim().split('\n').at(-1)!) as { udpSent: number; udpAnswers: number; tcpSent: number; tcpAnswered: number };
    // Resolves only once the resolver cut every idle connection off (the clients never close them).
    await idleClosed;

    // Every pipelined TCP query was answered, during a flood that was still sending when the probes ended.
    expect(flood.tcpAnswered).toBe(flood.tcpSent);
    expect(flood.tcpSent).toBeGreaterThan(0);
    expect(flood.udpSent).toBeGreaterThan(flood.udpAnswers);
    // What the resolver answered is what it audited, once each; junk was dropped and counted, never answered.
    const stats = resolver.stats();
    expect(stats.auditFailures).toBe(0);
    expect(stats.malformed).toBeGreaterThan(0);
    expect(audit.count()).toBe(stats.queries);
    expect(stats.queries).toBeGreaterThanOrEqual(flood.tcpAnswered + flood.udpAnswers + PROBES * 2);
    // Each TCP probe once; each UDP probe once per send the resolver read (a resend may have been read too).
    const probeEvents = audit.events().filter((event) => event.subject === 'probe.test').length;
    expect(probeEvents).toBeGreaterThanOrEqual(PROBES * 2);
    expect(probeEvents).toBeLessThanOrEqual(PROBES + udpSends);

    // Every connection closed on both ends: the process holds what it held before the flood.
    expect(await fdsBackTo(startFds, 5_000)).toBe(startFds);
  });
});
