/**
 * Fuzzing the sandbox resolver's message parsing (resolver.ts, tcp-frames.ts)
 * with fast-check, over real UDP and TCP sockets on loopback: generated and
 * mutated DNS messages, each followed by a well-formed probe query. The
 * resolver must answer every probe, drop what it cannot read as one standard
 * query (counted, never answered, never audited) and answer what it can with a
 * response that asks back exactly the question asked. docs/reliability.md
 * cites the case counts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, type Packet } from 'dns-packet';
import { AuditLog } from '../../../sandbox-core/audit/audit-log.ts';
import { DnsFrameReader, frameDnsMessage } from '../../../sandbox-core/dns/tcp-frames.ts';
import { startDnsResolver, type DnsResolver } from '../../../sandbox-core/dns/resolver.ts';

/** Fixed, so a failure reproduces: fast-check prints the seed and path of the case that failed. */
const SEED = 16_001;
const DNS_FUZZ_CASES = 10_000;

const ZONE = new Map([['upstream.test', ['127.0.0.1', '::1']]]);

let dir: string;
let audit: AuditLog;
let resolver: DnsResolver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-dns-fuzz-'));
  audit = AuditLog.open(join(dir, 'audit.sqlite'));
  resolver = await startDnsResolver({ zone: ZONE, audit, sandbox: 'fuzz' });
});
afterAll(async () => {
  await resolver.close();
  audit.close();
  rmSync(dir, { recursive: true, force: true });
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const hostName = fc.oneof(fc.constant('upstream.test'), fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')));
const queryType = fc.constantFrom('A', 'AAAA', 'MX', 'TXT', 'ANY', 'CNAME', 'PTR', 'SRV');

/** A well-formed standard query. */
const validQuery = fc.record({ id: fc.integer({ min: 0, max: 0xffff }), name: hostName, type: queryType, rd: fc.boolean() }).map(({ id, name, type, rd }) =>
  encode({ id, type: 'query', flags: rd ? 1 << 8 : 0, questions: [{ name, type }] }),
);

/** A name section of raw labels: any bytes, lengths up to 63 (and beyond, as a length byte with its top bits set is a pointer), compression pointers. */
const rawName = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 70 }).map((bytes) => Buffer.concat([Buffer.from([bytes.length]), bytes])),
      fc.integer({ min: 0, max: 0x3fff }).map((offset) => Buffer.from([0xc0 | (offset >> 8), offset & 0xff])),
      fc.integer({ min: 0, max: 255 }).map((byte) => Buffer.from([byte])),
    ),
    { maxLength: 6 },
  )
  .chain((parts) => fc.boolean().map((terminated) => Buffer.concat([...parts, terminated ? Buffer.from([0]) : Buffer.alloc(0)])));

/** A header of random fields over one or more raw question sections. */
const structured = fc
  .record({
    header: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    qdcount: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    queryFlags: fc.boolean(),
    questions: fc.array(fc.tuple(rawName, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })), { minLength: 0, maxLength: 3 }),
    tail: fc.uint8Array({ maxLength: 40 }),
  })
  .map(({ header, qdcount, queryFlags, questions, tail }) => {
    const head = Buffer.from(header);
    if (queryFlags) head.writeUInt16BE(0x0100, 2); // a standard query, RD: what gets past the header checks
    head.writeUInt16BE(qdcount, 4);
    const sections = questions.map(([name, type, klass]) => {
      const typeClass = Buffer.alloc(4);
      typeClass.writeUInt16BE(type, 0);
      typeClass.writeUInt16BE(klass, 2);
      return Buffer.concat([name, typeClass]);
    });
    return Buffer.concat([head, ...sections, tail]);
  });

/** A valid query changed: bytes flipped, cut short, extended, or header counts rewritten. */
const mutated = fc
  .record({
    query: validQuery,
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    cut: fc.option(fc.nat()),
    extra: fc.uint8Array({ maxLength: 30 }),
  })
  .map(({ query, flips, cut, extra }) => {
    const bytes = Buffer.from(query);
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    const kept = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
    return Buffer.concat([kept, extra]);
  });

/** What any DNS endpoint on a network gets sent. */
const message = fc.oneof(fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)), structured, mutated, validQuery);

/** Messages sent per round trip: each followed by its probe, all written at once. */
const BATCH = 10;
const batch = fc.array(message, { minLength: BATCH, maxLength: BATCH });

/** Surely not one standard query, whatever the rest holds: too short for a header, a response, another opcode, or not one question. */
function surelyMalformed(bytes: Buffer): boolean {
  if (bytes.length < 12) return true;
  const flags = bytes.readUInt16BE(2);
  return (flags & 0x8000) !== 0 || ((flags >> 11) & 0xf) !== 0 || bytes.readUInt16BE(4) !== 1;
}

/** A label the resolver can answer faithfully: 1-63 printable ASCII bytes, no dot. */
const PLAIN_NAME = /^([\x21-\x2d\x2f-\x7e]{1,63}(\.[\x21-\x2d\x2f-\x7e]{1,63})*|\.)$/;

/** What an answer to `sent` must be: a response with its id that asks back the same, plain, question. */
function checkAnswer(sent: Buffer, answer: Buffer): void {
  const response = decode(answer);
  const query = decode(sent);
  expect(response.type).toBe('response');
  expect(response.id).toBe(query.id);
  expect(['NOERROR', 'NXDOMAIN']).toContain(response.rcode);
  expect(response.questions).toEqual(query.questions);
  expect(response.questions![0]!.name).toMatch(PLAIN_NAME);
  // Re-encoding what was answered gives the bytes sent: the response names the question exactly as asked.
  expect(encode({ id: 0, type: 'query', questions: response.questions }).subarray(12)).toEqual(encode({ id: 0, type: 'query', questions: query.questions }).subarray(12));
}

let probes = 0;
function probe(): { bytes: Buffer; name: string } {
  const name = `probe-${++probes}.upstream.test`;
  return { bytes: encode({ id: probes & 0xffff, type: 'query', questions: [{ name, type: 'A' }] }), name };
}
const isProbe = (packet: Packet, name: string) => packet.type === 'response' && packet.questions?.[0]?.name === name;

describe('the resolver fuzzed over UDP', () => {
  let client: Socket;
  const inbox: Buffer[] = [];
  let arrived: (() => void) | undefined;
  beforeAll(async () => {
    client = createSocket('udp4');
    client.on('message', (bytes) => {
      inbox.push(bytes);
      arrived?.();
    });
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  });
  afterAll(() => client.close());

  /** Sends each message followed by a probe, all at once; returns, per message, what came back between the probes' answers. */
  async function exchange(messages: Buffer[]): Promise<Buffer[][]> {
    const probes = messages.map(() => probe());
    for (const [i, bytes] of messages.entries()) {
      client.send(bytes, resolver.port, '127.0.0.1');
      client.send(probes[i]!.bytes, resolver.port, '127.0.0.1');
    }
    const answers: Buffer[][] = [];
    for (const { name } of probes) {
      for (;;) {
        const at = inbox.findIndex((answer) => isProbe(decode(answer), name));
        if (at >= 0) {
          answers.push(inbox.splice(0, at + 1).slice(0, -1));
          break;
        }
        // A lost datagram shows up as this test's timeout: loopback does not lose them at this rate.
        await new Promise<void>((resolve) => (arrived = resolve));
      }
    }
    return answers;
  }

  it(`answers every probe after ${DNS_FUZZ_CASES} generated messages, drops the malformed, answers the rest faithfully`, async () => {
    const before = { ...resolver.stats(), audited: audit.count() };
    let sent = 0;
    let dropped = 0;
    await fc.assert(
      fc.asyncProperty(batch, async (messages) => {
        sent += messages.length;
        for (const [i, answers] of (await exchange(messages)).entries()) {
          const bytes = messages[i]!;
          expect(answers.length).toBeLessThanOrEqual(1);
          if (answers.length === 0) dropped++;
          if (surelyMalformed(bytes)) expect(answers).toEqual([]);
          for (const answer of answers) checkAnswer(bytes, answer);
        }
      }),
      { seed: SEED, numRuns: DNS_FUZZ_CASES / BATCH },
    );
    const after = resolver.stats();
    expect(sent).toBeGreaterThanOrEqual(DNS_FUZZ_CASES);
    // Every message was either answered (and audited) or dropped (and counted); probes are answered.
    expect(after.malformed - before.malformed).toBe(dropped);
    expect(after.queries - before.queries).toBe(2 * sent - dropped);
    expect(audit.count() - before.audited).toBe(after.queries - before.queries);
    expect(after.auditFailures).toBe(0);
  });
});

describe('the resolver fuzzed over TCP', () => {
  /** One connection and its answers, in order. */
  async function open(): Promise<{ socket: TcpSocket; next: () => Promise<Buffer> }> {
    const socket = connect(resolver.port, '127.0.0.1');
    socket.setNoDelay(true);
    const reader = new DnsFrameReader();
    const answers: Buffer[] = [];
    let arrived: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      answers.push(...reader.push(chunk));
      arrived?.();
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    const next = async (): Promise<Buffer> => {
      while (answers.length === 0) await new Promise<void>((resolve) => (arrived = resolve));
      return answers.shift()!;
    };
    return { socket, next };
  }

  it(`keeps one connection answering across ${DNS_FUZZ_CASES} framed messages, malformed or not`, async () => {
    let connection = await open();
    await fc.assert(
      fc.asyncProperty(batch, async (messages) => {
        const { socket, next } = connection;
        const probes = messages.map(() => probe());
        socket.write(Buffer.concat(messages.flatMap((bytes, i) => [frameDnsMessage(bytes), frameDnsMessage(probes[i]!.bytes)])));
        try {
          for (const [i, bytes] of messages.entries()) {
            const first = await next();
            if (isProbe(decode(first), probes[i]!.name)) continue; // dropped
            expect(surelyMalformed(bytes)).toBe(false);
            checkAnswer(bytes, first);
            expect(isProbe(decode(await next()), probes[i]!.name)).toBe(true);
          }
        } catch (error) {
          // A failed case leaves answers unread: the cases fast-check shrinks it to start on a fresh connection.
          socket.destroy();
          connection = await open();
          throw error;
        }
      }),
      { seed: SEED, numRuns: DNS_FUZZ_CASES / BATCH },
    );
    connection.socket.destroy();
  });

  it('survives raw byte streams that break the framing, one connection each, and a declared 64 KiB frame that never completes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const { socket } = await open();
        socket.write(bytes);
        socket.destroy();
      }),
      { seed: SEED, numRuns: 500 },
    );
    // A header promising 65,535 bytes, then a slow trickle: held (at most 64 KiB), not answered, others still served.
    const { socket: slow } = await open();
    slow.write(Buffer.from([0xff, 0xff]));
    for (let i = 0; i < 20; i++) slow.write(Buffer.alloc(1_000, i));
    const { socket, next } = await open();
    const { bytes: query, name } = probe();
    socket.write(frameDnsMessage(query));
    expect(isProbe(decode(await next()), name)).toBe(true);
    // The rest of the declared length arrives: one malformed message, and the stream is in step again.
    const malformedBefore = resolver.stats().malformed;
    const again = probe();
    const slowAnswers = new DnsFrameReader();
    const slowGot: Buffer[] = [];
    slow.on('data', (chunk: Buffer) => slowGot.push(...slowAnswers.push(chunk)));
    slow.write(Buffer.concat([Buffer.alloc(65_535 - 20_000, 0xab), frameDnsMessage(again.bytes)]));
    await new Promise<void>((resolve) => {
      const check = () => (slowGot.length > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(isProbe(decode(slowGot[0]!), again.name)).toBe(true);
    expect(resolver.stats().malformed).toBe(malformedBefore + 1);
    slow.destroy();
    socket.destroy();
  });
});

describe('DnsFrameReader fuzzed', () => {
  it(`splits any messages cut into any chunks back into those messages, holding at most one partial frame (${DNS_FUZZ_CASES} cases)`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 2_000 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const stream = Buffer.concat(messages.map((m) => frameDnsMessage(Buffer.from(m))));
          const reader = new DnsFrameReader();
          const out: Buffer[] = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            out.push(...reader.push(stream.subarray(at, at + size)));
            at += size;
            expect(reader.buffered).toBeLessThanOrEqual(2 + 0xffff);
          }
          expect(out.map((m) => [...m])).toEqual(messages.map((m) => [...m]));
          expect(reader.buffered).toBe(0);
        },
      ),
      { seed: SEED, numRuns: DNS_FUZZ_CASES },
    );
  });
});
