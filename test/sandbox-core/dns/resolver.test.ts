import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECURSION_DESIRED, decode, encode, type Packet } from 'dns-packet';
import { AuditLog } from '../../../sandbox-core/audit/audit-log.ts';
import { DnsFrameReader, frameDnsMessage } from '../../../sandbox-core/dns/tcp-frames.ts';
import type { DnsDecide } from '../../../sandbox-core/dns/resolve-query.ts';
import { startDnsResolver, type DnsResolver } from '../../../sandbox-core/dns/resolver.ts';

const ZONE = new Map([
  ['upstream.test', ['127.0.0.1', '::1']],
  ['Blocked.Test.', ['127.0.0.2']],
  ['v4only.test', ['10.0.0.1', '10.0.0.2']],
  ['many.test', Array.from({ length: 40 }, (_, i) => `10.1.0.${i + 1}`)],
]);

/** Blocks blocked.test, logs v4only.test, allows the rest by default. */
const POLICY: DnsDecide = ({ name }) =>
  name === 'blocked.test' ? { decision: 'block', ruleId: 'no-blocked' } : name === 'v4only.test' ? { decision: 'log', ruleId: 'watch-v4' } : { decision: 'allow', ruleId: null };

let dir: string;
let audit: AuditLog;
let resolver: DnsResolver;
let client: Socket;
const received: Packet[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-dns-'));
  audit = AuditLog.open(join(dir, 'audit.sqlite'));
  resolver = await startDnsResolver({ zone: ZONE, decide: POLICY, audit, sandbox: 'sb-1' });
  received.length = 0;
  client = createSocket('udp4');
  client.on('message', (message) => received.push(decode(message)));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  client.close();
  await resolver.close();
  audit.close();
  rmSync(dir, { recursive: true, force: true });
});

let nextId = 1;
/** Sends one query over UDP and waits (at most 2 s) for the answer with its id. */
async function ask(name: string, type = 'A'): Promise<Packet> {
  const id = nextId++;
  client.send(encode({ id, type: 'query', flags: RECURSION_DESIRED, questions: [{ name, type }] }), resolver.port, '127.0.0.1');
  for (let waited = 0; waited < 2_000; waited += 5) {
    const answer = received.find((packet) => packet.id === id);
    if (answer) return answer;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no answer to ${name} ${type} within 2 s`);
}

function addresses(packet: Packet): unknown[] {
  return (packet.answers ?? []).map((answer) => answer.data);
}

describe('startDnsResolver', () => {
  it('listens on 127.0.0.1', () => {
    expect(resolver.address).toBe('127.0.0.1');
    expect(resolver.port).toBeGreaterThan(0);
  });

  it('answers A and AAAA from the zone, NXDOMAIN outside it', async () => {
    const a = await ask('upstream.test', 'A');
    expect(a.rcode).toBe('NOERROR');
    expect(addresses(a)).toEqual(['127.0.0.1']);
    expect(a.answers?.[0]).toMatchObject({ name: 'upstream.test', type: 'A', ttl: 0 });
    expect(addresses(await ask('upstream.test', 'AAAA'))).toEqual(['::1']);
    expect(addresses(await ask('v4only.test', 'A'))).toEqual(['10.0.0.1', '10.0.0.2']);

    const noAaaa = await ask('v4only.test', 'AAAA');
    expect(noAaaa.rcode).toBe('NOERROR');
    expect(noAaaa.answers).toEqual([]);

    const unknown = await ask('elsewhere.test');
    expect(unknown.rcode).toBe('NXDOMAIN');
    expect(unknown.answers).toEqual([]);
  });

  it('matches names case-insensitively and with a trailing dot', async () => {
    expect(addresses(await ask('UPSTREAM.Test.'))).toEqual(['127.0.0.1']);
    // The policy sees the normalized name, so a change of case does not get around a block.
    expect((await ask('BLOCKED.test')).rcode).toBe('NXDOMAIN');
  });

  it('answers NXDOMAIN for a blocked name in the zone and audits every decision', async () => {
    expect((await ask('blocked.test')).rcode).toBe('NXDOMAIN');
    expect(addresses(await ask('upstream.test'))).toEqual(['127.0.0.1']);
    expect(addresses(await ask('v4only.test'))).toEqual(['10.0.0.1', '10.0.0.2']);

    const events = audit.events();
    expect(events.map(({ kind, sandbox, subject, ruleId, decision }) => ({ kind, sandbox, subject, ruleId, decision }))).toEqual([
      { kind: 'dns', sandbox: 'sb-1', subject: 'blocked.test', ruleId: 'no-blocked', decision: 'block' },
      { kind: 'dns', sandbox: 'sb-1', subject: 'upstream.test', ruleId: null, decision: 'allow' },
      { kind: 'dns', sandbox: 'sb-1', subject: 'v4only.test', ruleId: 'watch-v4', decision: 'log' },
    ]);
    expect(events[0]!.detail).toEqual({ type: 'A', rcode: 'NXDOMAIN', answers: [] });
    expect(events[1]!.detail).toEqual({ type: 'A', rcode: 'NOERROR', answers: ['127.0.0.1'] });
  });

  it('drops malformed packets, counts them, and keeps answering', async () => {
    const header = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]); // one question announced, none present
    const response = encode({ id: 10, type: 'response', questions: [{ name: 'upstream.test', type: 'A' }] });
    const garbage = [Buffer.from('hello'), header, response, Buffer.alloc(0), Buffer.alloc(600, 0xff)];
    for (const packet of garbage) client.send(packet, resolver.port, '127.0.0.1');

    expect(addresses(await ask('upstream.test'))).toEqual(['127.0.0.1']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toHaveLength(1);
    expect(resolver.stats()).toEqual({ queries: 1, malformed: garbage.length, auditFailures: 0 });
    expect(audit.count()).toBe(1);
  });

  it('drops a question it could not ask back byte for byte: a class other than IN, a non-ASCII byte or a dot inside a label (found by fuzz.test.ts)', async () => {
    const question = (name: number[], klass = 1) => Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, klass]);
    const upstream = [8, ...Buffer.from('upstream'), 4, ...Buffer.from('test'), 0];
    const garbage = [
      question(upstream, 0), // dns-packet reads class 0x7474 or 0 as UNKNOWN_n and would answer class 0
      question([8, ...Buffer.from('upst'), 0xff, ...Buffer.from('eam'), 4, ...Buffer.from('test'), 0]), // 0xff read as U+FFFD, three bytes
      question([13, ...Buffer.from('upstream.test'), 0]), // one label with a dot: answered as two labels
    ];
    for (const packet of garbage) client.send(packet, resolver.port, '127.0.0.1');
    expect(addresses(await ask('upstream.test'))).toEqual(['127.0.0.1']);
    expect(received).toHaveLength(1);
    expect(resolver.stats()).toMatchObject({ queries: 1, malformed: garbage.length });
  });

  it('truncates an answer too large for UDP', async () => {
    const answer = await ask('many.test');
    expect(answer.rcode).toBe('NOERROR');
    expect(answer.flags! & (1 << 9)).not.toBe(0);
    expect(answer.answers).toEqual([]);
    expect(audit.events()[0]!.detail).toMatchObject({ rcode: 'NOERROR', truncated: true });
  });

  it('answers over TCP on the same port: split, batched and malformed messages', async () => {
    const connection = connect(resolver.port, '127.0.0.1');
    const reader = new DnsFrameReader();
    const answers: Packet[] = [];
    connection.on('data', (chunk: Buffer) => answers.push(...reader.push(chunk).map((message) => decode(message))));
    await new Promise((resolve) => connection.once('connect', resolve));
    const query = (id: number, name: string) => frameDnsMessage(encode({ id, type: 'query', questions: [{ name, type: 'A' }] }));
    const first = query(1, 'many.test');
    connection.write(first.subarray(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    connection.write(Buffer.concat([first.subarray(5), frameDnsMessage(Buffer.from('junk')), query(2, 'blocked.test')]));
    for (let waited = 0; answers.length < 2 && waited < 2_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    connection.destroy();

    expect(answers.map((answer) => answer.id)).toEqual([1, 2]);
    expect(addresses(answers[0]!)).toHaveLength(40);
    expect(answers[0]!.flags! & (1 << 9)).toBe(0);
    expect(answers[1]!.rcode).toBe('NXDOMAIN');
    expect(resolver.stats()).toEqual({ queries: 2, malformed: 1, auditFailures: 0 });
  });

  it('also answers DNS over TCP framing on a unix socket, with the same policy and audit', async () => {
    await resolver.close();
    const socketPath = join(dir, 'dns.sock');
    resolver = await startDnsResolver({ zone: ZONE, decide: POLICY, audit, sandbox: 'sb-1', socketPath });
    const connection = connect(socketPath);
    const reader = new DnsFrameReader();
    const answers: Packet[] = [];
    connection.on('data', (chunk: Buffer) => answers.push(...reader.push(chunk).map((message) => decode(message))));
    await new Promise((resolve) => connection.once('connect', resolve));
    for (const [id, name] of [[1, 'upstream.test'], [2, 'blocked.test']] as const) connection.write(frameDnsMessage(encode({ id, type: 'query', questions: [{ name, type: 'A' }] })));
    for (let waited = 0; answers.length < 2 && waited < 2_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    connection.destroy();
    expect(answers.map((answer) => [answer.id, answer.rcode, addresses(answer)])).toEqual([[1, 'NOERROR', ['127.0.0.1']], [2, 'NXDOMAIN', []]]);
    expect(audit.count({ kind: 'dns' })).toBe(2);
  });

  it('names the unix socket it cannot listen on', async () => {
    await expect(startDnsResolver({ zone: ZONE, socketPath: join(dir, 'no-such-dir', 'dns.sock') })).rejects.toThrow(/startDnsResolver: cannot listen on socketPath .*no-such-dir\/dns\.sock/);
  });

  it('cuts off a TCP client that does not read its answers, and keeps serving others', async () => {
    const hog = connect(resolver.port, '127.0.0.1');
    hog.pause();
    const closed = new Promise((resolve) => hog.once('close', resolve));
    hog.on('error', () => {});
    await new Promise((resolve) => hog.once('connect', resolve));
    const batch = Buffer.concat(Array.from({ length: 500 }, (_, i) => frameDnsMessage(encode({ id: i, type: 'query', questions: [{ name: 'many.test', type: 'A' }] }))));
    let cutOff = false;
    void closed.then(() => (cutOff = true));
    for (let sent = 0; sent < 100 && !cutOff; sent++) {
      hog.write(batch);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(cutOff).toBe(true);
    expect(addresses(await ask('upstream.test'))).toEqual(['127.0.0.1']);
  });

  it("serves Node's own resolver, and the audit holds one event per query", async () => {
    const system = new Resolver({ timeout: 1_000, tries: 1 });
    system.setServers([`127.0.0.1:${resolver.port}`]);
    expect(await system.resolve4('upstream.test')).toEqual(['127.0.0.1']);
    expect(await system.resolve6('upstream.test')).toEqual(['::1']);
    // Truncated over UDP, so the client asks again over TCP: two attempts, two events.
    expect(await system.resolve4('many.test')).toHaveLength(40);
    await expect(system.resolve4('blocked.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(system.resolve4('elsewhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });

    const sent = 50;
    await Promise.all(Array.from({ length: sent }, (_, i) => ask(i % 2 === 0 ? 'upstream.test' : 'blocked.test')));
    expect(resolver.stats().queries).toBe(sent + 6);
    expect(audit.count({ kind: 'dns' })).toBe(sent + 6);
    expect(audit.count({ decision: 'block' })).toBe(sent / 2 + 1);
  });

  it('fails closed when the policy throws', async () => {
    await resolver.close();
    resolver = await startDnsResolver({ zone: ZONE, audit, decide: () => { throw new Error('rule crashed'); } });
    expect((await ask('upstream.test')).rcode).toBe('SERVFAIL');
    const [event] = audit.events();
    expect(event).toMatchObject({ decision: 'block', ruleId: null, sandbox: null, detail: { rcode: 'SERVFAIL', error: 'policy failed: rule crashed' } });
  });

  it('answers SERVFAIL when the audit cannot be written', async () => {
    audit.close();
    expect((await ask('upstream.test')).rcode).toBe('SERVFAIL');
    expect(resolver.stats().auditFailures).toBe(1);
    audit = AuditLog.open(join(dir, 'audit.sqlite'));
  });

  it('rejects a zone address that is not an IP address, naming the name', async () => {
    await expect(startDnsResolver({ zone: new Map([['bad.test', ['not-an-ip']]]) })).rejects.toThrow(
      'DNS zone: name "bad.test": expected an IPv4 or IPv6 address, found "not-an-ip"',
    );
  });
});
