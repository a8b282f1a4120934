/**
 * The runc sandbox's user namespace, the command user apart from the agent,
 * and the seccomp filter, checked against the real runc from inside.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, field, FrameDecoder, MessageType, Tag } from '../../../../sandbox-core/agent/protocol.ts';
import { reclaimSync } from '../../../../sandbox-core/cleanup.ts';
import { HOST_ID_BASE } from '../../../../sandbox-core/isolation/host-ids.ts';
import { DEFAULT_LIMITS } from '../../../../sandbox-core/isolation/limits.ts';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';
import { PROFILE_NAME } from '../../../../sandbox-core/seccomp/profile.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
/** Where acquireHostIds() keeps its locks: one file per pair, named by slot. */
const HOST_ID_LOCKS = '/run/rigor/host-ids';

const lockOf = (ids: { agent: number }) => join(HOST_ID_LOCKS, String((ids.agent - HOST_ID_BASE) / 2));

/** EXEC_RESULT frames saying "exit 0, stdout FORGED" for every request id a young client could be waiting on. */
function forgedResults(): Buffer {
  const frames: Buffer[] = [];
  for (let id = 1; id <= 256; id++) {
    frames.push(
      encodeFrame(MessageType.EXEC_RESULT, id, [
        field.int(Tag.EXIT_CODE, 0),
        field.int(Tag.SIGNAL, 0),
        field.bytes(Tag.STDOUT, 'FORGED\n'),
        field.bytes(Tag.STDERR, ''),
        field.int(Tag.TIMED_OUT, 0),
        field.ms(Tag.RECEIVED_MS, 1),
        field.ms(Tag.SPAWNED_MS, 2),
        field.ms(Tag.EXITED_MS, 3),
      ]),
    );
  }
  return Buffer.concat(frames);
}

for (const agent of ['native', 'node'] as const) {
  describe.skipIf(!availability.ok)(`runc isolation, ${agent} agent${skipReason}`, () => {
    let sandbox: RuncSandbox;
    beforeAll(async () => {
      sandbox = (await runcBackend.create({ agent })) as RuncSandbox;
    });
    afterAll(async () => {
      await sandbox?.destroy();
    });

    const sh = (script: string) => sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 20_000 });

    it('maps only its own two host ids, neither of them host root, and says which', async () => {
      const ids = sandbox.hostIds!;
      expect(ids.agent).toBeGreaterThanOrEqual(HOST_ID_BASE);
      expect(ids.command).toBe(ids.agent + 1);
      const result = await sh('cat /proc/self/uid_map; echo --; cat /proc/self/gid_map');
      const [uidMap, gidMap] = result.stdout.toString().split('--\n');
      for (const map of [uidMap!, gidMap!]) {
        const rows = map.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number));
        expect(rows).toEqual([
          [0, ids.agent, 1],
          [1000, ids.command, 1],
        ]);
        // nothing maps onto host id 0
        for (const [, host] of rows) expect(host).not.toBe(0);
      }
    });

    it('runs commands as uid and gid 1000 with no capability, and the agent as root with only what it needs', async () => {
      expect((await sh('id -u; id -g')).stdout.toString()).toBe('1000\n1000\n');
      const status = (await sh('grep -E "^(Uid|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs)" /proc/self/status /proc/1/status')).stdout.toString();
      const line = (file: string, key: string) => new RegExp(`^${file}:${key}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim();
      expect(line('/proc/self/status', 'Uid')).toBe('1000\t1000\t1000\t1000');
      for (const key of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) expect(line('/proc/self/status', key), key).toBe('0000000000000000');
      expect(line('/proc/self/status', 'NoNewPrivs')).toBe('1');
      expect(line('/proc/1/status', 'Uid')).toBe('0\t0\t0\t0');
      // CAP_KILL (5), CAP_SETGID (6), CAP_SETUID (7), and CAP_SETPCAP (8) for the native agent's bounding-set drop
      expect(line('/proc/1/status', 'CapEff')).toBe(agent === 'native' ? '00000000000001e0' : '00000000000000e0');
      expect(line('/proc/1/status', 'CapInh')).toBe('0000000000000000');
      expect(line('/proc/1/status', 'NoNewPrivs')).toBe('1');
    });

    it('runs the agent and its commands under the seccomp filter, and names the profile', async () => {
      expect(sandbox.seccompProfile).toBe(PROFILE_NAME);
      expect(sandbox.isolation).toEqual({
        seccomp: PROFILE_NAME,
        commandUid: 1000,
        commandHostUid: sandbox.hostIds!.command,
        limits: { pids: DEFAULT_LIMITS.pids, memoryMiB: DEFAULT_LIMITS.memoryMiB, workspaceMiB: DEFAULT_LIMITS.workspaceMiB },
      });
      const result = await sh('grep -E "^Seccomp:" /proc/self/status /proc/1/status');
      expect(result.stdout.toString()).toBe('/proc/self/status:Seccomp:\t2\n/proc/1/status:Seccomp:\t2\n');
    });

    it('cannot open, signal or read the agent: pid 1 is another uid', async () => {
      const result = await sh('echo x > /proc/1/fd/1; echo "fd1=$?"; cat /proc/1/environ; echo "environ=$?"; kill -0 1; echo "kill=$?"');
      expect(result.stdout.toString()).toMatch(/^fd1=[1-9]\d*\nenviron=[1-9]\d*\nkill=[1-9]\d*\n$/);
      const stderr = result.stderr.toString();
      expect(stderr).toMatch(/can(no|')t create \/proc\/1\/fd\/1: Permission denied/);
      expect(stderr).toMatch(/\/proc\/1\/environ'?: Permission denied/);
      expect(stderr).toMatch(/Operation not permitted/);
    });

    it('cannot forge the agent\'s reply: the exec result stays the real one', async () => {
      const forged = forgedResults();
      // well-formed replies the host would take, were they on the channel
      expect(new FrameDecoder().push(forged).map((frame) => frame.type)).toEqual(Array(256).fill(MessageType.EXEC_RESULT));
      await sandbox.writeFile('/workspace/forged', forged);
      const result = await sh('echo REAL-OUTPUT; cat /workspace/forged > /proc/1/fd/1; exit 7');
      expect(result.exitCode).toBe(7);
      expect(result.signal).toBeNull();
      expect(result.stdout.toString()).toBe('REAL-OUTPUT\n');
      expect(result.stderr.toString()).toMatch(/Permission denied/);
      // the channel is intact: the next request gets its own reply
      expect((await sandbox.exec({ argv: ['echo', 'next'] })).stdout.toString()).toBe('next\n');
    });

    it('cannot make a user namespace (unshare -U), nor write host-wide kernel settings', async () => {
      const unshare = await sh('unshare -U id -u');
      expect(unshare.exitCode).not.toBe(0);
      expect(unshare.stdout.toString()).toBe('');
      expect(unshare.stderr.toString()).toMatch(/Operation not permitted/);
      const sysctl = await sh('echo "|/tmp/x" > /proc/sys/kernel/core_pattern; echo "core=$?"; echo 3 > /proc/sys/vm/drop_caches; echo "drop=$?"');
      expect(sysctl.stdout.toString()).toMatch(/^core=[1-9]\d*\ndrop=[1-9]\d*\n$/);
      expect(sysctl.stderr.toString().match(/Read-only file system|Permission denied/g)).toHaveLength(2);
      expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).not.toMatch(/\/tmp\/x/);
    });
  });
}

describe.skipIf(!availability.ok)(`runc without the seccomp filter${skipReason}`, () => {
  it('with seccomp "unconfined" says so, has no filter, and unshare -U works (so the test above measures the filter)', async () => {
    const sandbox = (await runcBackend.create({ seccomp: 'unconfined' })) as RuncSandbox;
    try {
      expect(sandbox.seccompProfile).toBe('unconfined');
      expect(sandbox.isolation?.seccomp).toBe('unconfined');
      expect((await sandbox.exec({ argv: ['grep', '^Seccomp:', '/proc/self/status'] })).stdout.toString()).toBe('Seccomp:\t0\n');
      const unshare = await sandbox.exec({ argv: ['unshare', '-U', 'id', '-u'] });
      expect(unshare.exitCode).toBe(0);
      // the nested namespace maps nobody: the command shows as the overflow uid
      expect(unshare.stdout.toString()).toBe('65534\n');
    } finally {
      await sandbox.destroy();
    }
  });

  it('allows back a syscall named in allowSyscalls, and names it in the profile', async () => {
    const sandbox = (await runcBackend.create({ allowSyscalls: ['unshare'] })) as RuncSandbox;
    try {
      expect(sandbox.seccompProfile).toBe(`${PROFILE_NAME}+allow(unshare)`);
      expect((await sandbox.exec({ argv: ['unshare', '-U', 'id', '-u'] })).exitCode).toBe(0);
      // clone with CLONE_NEWUSER is still denied
      expect((await sandbox.exec({ argv: ['grep', '^Seccomp:', '/proc/self/status'] })).stdout.toString()).toBe('Seccomp:\t2\n');
    } finally {
      await sandbox.destroy();
    }
  });

  it('refuses an unknown seccomp mode or syscall before making anything', async () => {
    await expect(runcBackend.create({ seccomp: 'off' as never })).rejects.toThrow(/spec.seccomp: expected "default" or "unconfined", found "off"/);
    await expect(runcBackend.create({ allowSyscalls: ['read'] })).rejects.toThrow(/allowSyscalls/);
  });
});

describe.skipIf(!availability.ok)(`runc host ids${skipReason}`, () => {
  it('gives concurrent sandboxes different ids, and releases them on destroy', async () => {
    const sandboxes = (await Promise.all([runcBackend.create(), runcBackend.create()])) as RuncSandbox[];
    const ids = sandboxes.map((sandbox) => sandbox.hostIds!);
    try {
      expect(new Set(ids.flatMap((pair) => [pair.agent, pair.command])).size).toBe(4);
      for (const pair of ids) expect(readFileSync(lockOf(pair), 'utf8')).toBe(String(process.pid));
    } finally {
      await Promise.all(sandboxes.map((sandbox) => sandbox.destroy()));
    }
    for (const pair of ids) expect(existsSync(lockOf(pair))).toBe(false);
    // still says what it ran as
    expect(sandboxes[0]!.hostIds).toEqual(ids[0]);
  });

  it('releases them in the synchronous last resort too', async () => {
    const sandbox = (await runcBackend.create()) as RuncSandbox;
    const ids = sandbox.hostIds!;
    try {
      expect(existsSync(lockOf(ids))).toBe(true);
      reclaimSync(sandbox.resources);
      expect(existsSync(lockOf(ids))).toBe(false);
    } finally {
      await sandbox.destroy();
    }
  });
});
