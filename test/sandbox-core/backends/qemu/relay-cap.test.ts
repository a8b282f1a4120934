/**
 * A qemu guest with egress cannot make the host start relays without end:
 * each guest connection to 10.0.2.100:3128 is a host process
 * (`rigor-agent --relay`), and spec.egress.maxRelays caps how many of them
 * relay at once. Here a guest with a cap of 4 opens 10 connections that the
 * stand-in proxy holds open: 4 reach the proxy, 6 are closed at once and
 * audited (through spec.egress.onRelayRefused into a real audit database),
 * the relay processes seen in /proc never number more than the cap besides
 * the refused ones on their way out, and the guest still answers afterwards.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../../sandbox-core/audit/audit-log.ts';
import { qemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';

const availability = await qemuBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

const CAP = 4;
const CONNECTIONS = 10;
const REASON = `relay cap of ${CAP} connections reached`;

/** Live relays to `socket`, by their command line (a zombie's is empty). */
function relaysTo(socket: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.includes('--relay') && argv.includes(socket)) found.push(Number(name));
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

/** Resolves once `ready()` holds, checking again every 10 ms (the test's own timeout bounds it). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe.skipIf(!availability.ok)(`qemu relay cap${skipReason}`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'rigor-relay-cap-'));
  chmodSync(scratch, 0o711); // qemu and its relays run as the sandbox's own uid
  const proxySocket = join(scratch, 'proxy.sock');
  let server: Server;
  let audit: AuditLog;
  let sandbox: Sandbox;
  /** While true the proxy greets and holds each connection; after, it greets and ends it. */
  let holding = true;
  const held = new Set<Socket>();
  let accepted = 0;
  let open = 0;
  let mostOpen = 0;
  let refusalsSeen = 0;

  beforeAll(async () => {
    // Half-open allowed: the guest's nc sends its end of file at once (stdin /dev/null) and waits for ours.
    server = createServer({ allowHalfOpen: true }, (connection) => {
      accepted += 1;
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      connection.on('error', () => {});
      connection.on('close', () => (open -= 1, held.delete(connection)));
      if (holding) {
        held.add(connection);
        connection.write('held\n');
      } else {
        connection.end('free\n');
      }
    });
    await new Promise<void>((resolve) => server.listen({ path: proxySocket, writableAll: true }, resolve));
    audit = AuditLog.open(join(scratch, 'audit.sqlite'));
    sandbox = await qemuBackend.create({
      egress: {
        proxySocket,
        maxRelays: CAP,
        onRelayRefused: (record) => {
          audit.record(record);
          refusalsSeen += 1;
        },
      },
    });
  }, 300_000);

  afterAll(async () => {
    await sandbox?.destroy();
    for (const connection of held) connection.destroy();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    audit?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`lets ${CAP} of ${CONNECTIONS} connections at once relay, closes and audits the rest, and the guest still answers`, async () => {
    // What /proc shows of the guest's relays, sampled all through the burst.
    const samples: number[][] = [];
    const sampler = setInterval(() => samples.push(relaysTo(proxySocket)), 5);
    const script = [
      'i=0',
      `while [ $i -lt ${CONNECTIONS} ]; do nc 10.0.2.100 3128 </dev/null >/tmp/nc$i & i=$((i + 1)); done`,
      'wait',
      'cat /tmp/nc* | grep -c held',
    ].join('\n');
    const burst = sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 240_000 });
    try {
      // Every connection answered one way or the other: held by the proxy or refused (and audited).
      await until(() => held.size + refusalsSeen >= CONNECTIONS);
      // The refused relays exit right after saying so: once they are gone, what stays is what relays.
      const gone = new Set(audit.events({ sandbox: sandbox.id }).map((event) => event.detail.relayPid as number));
      await until(() => relaysTo(proxySocket).every((pid) => !gone.has(pid)));
      samples.push(relaysTo(proxySocket));
    } finally {
      clearInterval(sampler);
    }

    expect(held.size).toBe(CAP);
    expect(mostOpen).toBe(CAP);
    const refused = audit.events({ sandbox: sandbox.id, decision: 'block' });
    expect(refused).toHaveLength(CONNECTIONS - CAP);
    for (const event of refused) {
      expect(event).toMatchObject({ kind: 'http', subject: '10.0.2.100:3128', ruleId: null, detail: { reason: REASON, relayCap: CAP, socket: proxySocket } });
    }
    const refusedPids = new Set(refused.map((event) => event.detail.relayPid as number));
    expect(refusedPids.size).toBe(CONNECTIONS - CAP);
    // Besides the refused ones on their way out, never more relays than the cap; at the end, exactly the cap.
    const relaying = samples.map((pids) => pids.filter((pid) => !refusedPids.has(pid)).length);
    expect(Math.max(...relaying)).toBe(CAP);
    expect(samples.at(-1)).toHaveLength(CAP);
    expect(new Set(samples.flat()).size).toBeLessThanOrEqual(CONNECTIONS);

    // The proxy lets go: the held connections end, the relays exit, the guest's nc's return.
    holding = false;
    for (const connection of held) connection.end();
    const result = await burst;
    expect(result.exitCode).toBe(0);
    expect(result.stdout.toString().trim()).toBe(String(CAP));
    await until(() => relaysTo(proxySocket).length === 0);

    // The slots are free again, and the guest answers as before.
    const acceptedBefore = accepted;
    const again = await sandbox.exec({ argv: ['nc', '10.0.2.100', '3128'], timeoutMs: 60_000 });
    expect(again.stdout.toString()).toBe('free\n');
    expect(accepted).toBe(acceptedBefore + 1);
    expect((await sandbox.exec({ argv: ['echo', 'still here'] })).stdout.toString()).toBe('still here\n');
    expect(audit.count({ sandbox: sandbox.id })).toBe(CONNECTIONS - CAP);
  }, 300_000);
});
