/**
 * Guests that never become ready, and guests killed mid-boot: create()
 * fails naming why, and nothing is left on the host: no qemu process, no
 * temp dir (sockets, console log), no registry entry.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../../sandbox-core/agent/build.ts';
import { qemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import { QemuSandbox, type QemuLaunch } from '../../../../sandbox-core/backends/qemu/sandbox.ts';
import { readHostTscKhz } from '../../../../sandbox-core/backends/qemu/tsc.ts';
import { liveSandboxes, SANDBOX_RUN_ROOT } from '../../../../sandbox-core/cleanup.ts';
import { buildGuestImage } from '../../../../sandbox-core/images/guest-image.ts';
import { cpioNewc } from '../../../../sandbox-core/images/guest/cpio.ts';
import { entriesUnder, membersOfGroups, processesMentioning, processesWithEnv, settlesToZero, useOwnTmpdir, waitUntil } from '../../../helpers/leftovers.ts';

const availability = await qemuBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

const root = useOwnTmpdir('rigor-qemu-test-');

const ours = `RIGOR_SANDBOX_ID=qemu-${process.pid}-`;

/** Start a create() and SIGKILL its qemu once the registry shows it, after `delayMs` of boot. */
async function killedMidBoot(delayMs: number, groups: Set<number>): Promise<string> {
  const known = new Set(liveSandboxes().map((sandbox) => sandbox.id));
  const creating = qemuBackend.create();
  let settled = false;
  void creating.then(() => (settled = true), () => (settled = true));
  let qemu: number | undefined;
  while (!settled && qemu === undefined) {
    [qemu] = liveSandboxes().find((sandbox) => !known.has(sandbox.id) && sandbox.resources.processGroups.size > 0)?.resources.processGroups ?? [];
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (qemu === undefined) throw new Error('create() settled before qemu was launched');
  groups.add(qemu);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  process.kill(qemu, 'SIGKILL');
  try {
    const sandbox = await creating;
    await sandbox.destroy();
    return 'ready-first';
  } catch (error) {
    return (error as Error).message;
  }
}

function leftovers(groups: Set<number>): string[] {
  return [
    ...processesWithEnv(ours).map((pid) => `process ${pid}`),
    ...membersOfGroups(groups).map((pid) => `group member ${pid}`),
    ...entriesUnder(root).filter((name) => name.startsWith('rigor-qemu-')),
    // qemu's run dirs (its sockets, its relays' slots) are under SANDBOX_RUN_ROOT, named by the creating process
    ...(existsSync(SANDBOX_RUN_ROOT) ? entriesUnder(SANDBOX_RUN_ROOT) : []).filter((name) => name.startsWith(`rigor-qemu-${process.pid}-`)),
    ...liveSandboxes()
      .filter((sandbox) => sandbox.backend === 'qemu')
      .map((sandbox) => `registered ${sandbox.id}`),
  ];
}

describe.skipIf(!availability.ok)(`qemu guests that fail or are killed${skipReason}`, () => {
  it('SIGKILL of qemu mid-boot fails create() with the cause, and a destroy() after it leaves nothing', async () => {
    const groups = new Set<number>();
    const message = await killedMidBoot(300, groups);
    expect(message).toMatch(/qemu-\d+-[0-9a-f]+: .*(end of stream|closed)/);
    expect(message).toContain('killed by SIGKILL');
    expect(await settlesToZero(() => leftovers(groups).length)).toBe(0);
  });

  it('a guest that does not answer in time is killed, and the error says so', async () => {
    await expect(qemuBackend.create({ readyTimeoutMs: 400 })).rejects.toThrow(/the guest did not answer within 0\.4 s; .*(console printed nothing|last console lines)/s);
    expect(await settlesToZero(() => leftovers(new Set()).length)).toBe(0);
  });

  it('a guest whose init fails shows the last console lines in the error', async () => {
    // A real initramfs whose /init reports a failure on the console and powers off, as the real one does.
    const image = await buildGuestImage();
    const initramfs = join(root, 'failing-initramfs.cpio');
    writeFileSync(
      initramfs,
      cpioNewc([
        { kind: 'dir', path: 'bin' },
        { kind: 'dir', path: 'dev' },
        { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
        { kind: 'file', path: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
        { kind: 'file', path: 'init', data: Buffer.from('#!/bin/busybox sh\necho "rigor-init: test failure"\n/bin/busybox poweroff -f\n'), mode: 0o755 },
      ]),
    );
    const sandbox = new QemuSandbox({ readyTimeoutMs: 30_000 });
    const launch: QemuLaunch = {
      qemu: 'qemu-system-x86_64',
      setpriv: '/usr/bin/setpriv',
      image: { ...image, initramfs },
      machine: 'microvm',
      accel: 'tcg',
      accelReason: 'test',
      qemuVersion: 'test',
      execCaps: [],
      tscKhz: readHostTscKhz(),
      preparedMs: 0,
      relay: await nativeAgentPath(),
      cmdline: { preset: 'quiet', words: ['quiet'] },
    };
    await expect(sandbox.start(async () => launch)).rejects.toThrow(/the guest powered off, reset or panicked\); last console lines:\n(.*\n)*rigor-init: test failure/);
    expect(await settlesToZero(() => leftovers(new Set()).length)).toBe(0);
  });

  it('5 create/destroy cycles, 2 of them killed mid-boot, leave 0 behind', async () => {
    const groups = new Set<number>();
    const outcomes: string[] = [];
    for (let cycle = 0; cycle < 5; cycle++) {
      if (cycle % 2 === 1) {
        // 100 and 300 ms into a boot that reaches ready at about 0.5 s (the project kernel, TCG)
        outcomes.push(await killedMidBoot(cycle * 100, groups));
        continue;
      }
      const sandbox = await qemuBackend.create();
      for (const pgid of liveSandboxes().find((live) => live.id === sandbox.id)!.resources.processGroups) groups.add(pgid);
      expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
      if (cycle === 2) await sandbox.pause(); // destroyed while paused
      if (cycle === 4) void sandbox.exec({ argv: ['sleep', '60'] }).catch(() => undefined); // destroyed mid-command
      await sandbox.destroy();
      outcomes.push('destroyed');
    }
    expect(outcomes.filter((outcome) => outcome === 'destroyed')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome.includes('killed by SIGKILL'))).toHaveLength(2);
    expect(await settlesToZero(() => leftovers(groups).length)).toBe(0);
  });

  it('a guest with egress leaves no relay behind when it is destroyed mid-connection', async () => {
    // A stand-in for the proxy that holds every connection open: only the guest's end going away can end a relay.
    const socketPath = join(root, 'holding-proxy.sock');
    const held = new Set<Socket>();
    const server = createServer((connection) => {
      held.add(connection);
      connection.on('error', () => {});
    });
    chmodSync(root, 0o711); // qemu's relays run as the sandbox's own uid
    await new Promise<void>((resolve) => server.listen({ path: socketPath, writableAll: true }, resolve));
    try {
      const sandbox = await qemuBackend.create({ egress: { proxySocket: socketPath } });
      void sandbox.exec({ argv: ['sh', '-c', 'sleep 60 | nc 10.0.2.100 3128'] }).catch(() => undefined);
      await waitUntil(() => held.size > 0 && processesMentioning(socketPath).length > 0, 20_000);
      expect(processesMentioning(socketPath).length).toBeGreaterThan(0);
      await sandbox.destroy();
      expect(await settlesToZero(() => processesMentioning(socketPath).length)).toBe(0);
    } finally {
      for (const connection of held) connection.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

