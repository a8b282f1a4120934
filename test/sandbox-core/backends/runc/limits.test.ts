import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../../sandbox-core/isolation/limits.ts';
import { RuncBackend, runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { dirOf } from '../../../../base/cgroups.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';
import type { SandboxSpec } from '../../../../sandbox-core/backends/types.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const MiB = 1024 * 1024;
const cgroupFile = (sandbox: RuncSandbox, controller: string, file: string) => readFileSync(join(dirOf(sandbox.cgroups, controller)!, file), 'utf8');

/** A sandbox for `body`, destroyed however `body` ends. */
async function withSandbox(spec: SandboxSpec, body: (sandbox: RuncSandbox) => Promise<void>, backend = runcBackend): Promise<void> {
  const sandbox = (await backend.create(spec)) as RuncSandbox;
  try {
    await body(sandbox);
  } finally {
    await sandbox.destroy();
  }
}

describe.skipIf(!availability.ok)(`runc limits${skipReason}`, () => {
  it('applies the default limits when the spec sets none: memory, pids and the workspace size', async () => {
    await withSandbox({}, async (sandbox) => {
      const defaults = { pids: DEFAULT_LIMITS.pids, memoryMiB: DEFAULT_LIMITS.memoryMiB, workspaceMiB: DEFAULT_LIMITS.workspaceMiB };
      expect(sandbox.limits).toEqual(defaults);
      expect(sandbox.isolation?.limits).toEqual(defaults);
      expect(Number(cgroupFile(sandbox, 'memory', 'memory.limit_in_bytes'))).toBe(DEFAULT_LIMITS.memoryMiB * MiB);
      expect(Number(cgroupFile(sandbox, 'pids', 'pids.max'))).toBe(DEFAULT_LIMITS.pids);
      const df = (await sandbox.exec({ argv: ['df', '-k', '/workspace'] })).stdout.toString().trim().split('\n')[1]!.split(/\s+/);
      expect(df[0]).toBe('tmpfs');
      expect(Number(df[1])).toBe(DEFAULT_LIMITS.workspaceMiB * 1024);
    });
  });

  it('caps swap with memory where swap is accounted', async () => {
    await withSandbox({ memoryMiB: 64 }, async (sandbox) => {
      const memsw = join(dirOf(sandbox.cgroups, 'memory')!, 'memory.memsw.limit_in_bytes');
      let swap: string | undefined;
      try {
        swap = readFileSync(memsw, 'utf8');
      } catch {
        return; // no swap accounting on this kernel: nothing to cap
      }
      expect(Number(swap)).toBe(64 * MiB);
    });
  });

  it('OOM-kills a command touching 200+ MiB with memoryMiB 64, says so, and the agent lives on', async () => {
    await withSandbox({ memoryMiB: 64 }, async (sandbox) => {
      expect(Number(cgroupFile(sandbox, 'memory', 'memory.limit_in_bytes'))).toBe(64 * MiB);
      expect((await sandbox.stats()).limits).toEqual({ oomKills: 0, forksRefused: 0 });
      // awk doubles a string 28 times: 256 MiB wanted, 64 MiB allowed
      const result = await sandbox.exec({ argv: ['awk', 'BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s; print length(s) }'], timeoutMs: 60_000 });
      expect(result.timedOut).toBe(false);
      expect(result.exitCode).toBeNull();
      expect(result.signal).toBe('SIGKILL');
      expect(result.stdout.toString()).toBe('');
      expect((await sandbox.stats()).limits?.oomKills).toBeGreaterThanOrEqual(1);
      expect(Number(cgroupFile(sandbox, 'memory', 'memory.max_usage_in_bytes'))).toBeLessThanOrEqual(64 * MiB);
      expect((await sandbox.exec({ argv: ['echo', 'alive'] })).stdout.toString()).toBe('alive\n');
    });
  });

  it('stops a fork loop at pidsLimit 64, and the sandbox answers afterwards', async () => {
    await withSandbox({ pidsLimit: 64 }, async (sandbox) => {
      expect(Number(cgroupFile(sandbox, 'pids', 'pids.max'))).toBe(64);
      // 100 background sleeps where 64 processes (the agent included) are allowed
      const result = await sandbox.exec({ argv: ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i+1)); done; echo all started'], timeoutMs: 60_000 });
      expect(result.stdout.toString()).toBe('');
      expect(result.stderr.toString()).toMatch(/can't fork|Resource temporarily unavailable/);
      // the kernel refused forks at the limit, and the count never went past it
      expect((await sandbox.stats()).limits?.forksRefused).toBeGreaterThanOrEqual(1);
      expect(Number(cgroupFile(sandbox, 'pids', 'pids.current'))).toBeLessThanOrEqual(64);
      // the agent killed the command's group when it exited: there is room to fork again
      const after = await sandbox.exec({ argv: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do true & done; wait; echo alive'], timeoutMs: 60_000 });
      expect(after.stderr.toString()).toBe('');
      expect(after.stdout.toString()).toBe('alive\n');
    });
  });

  it('takes the backend\'s pids default below the spec\'s', async () => {
    const backend = new RuncBackend({ pidsLimit: 16 });
    await withSandbox({}, async (sandbox) => expect(Number(cgroupFile(sandbox, 'pids', 'pids.max'))).toBe(16), backend);
    await withSandbox({ pidsLimit: 32 }, async (sandbox) => expect(Number(cgroupFile(sandbox, 'pids', 'pids.max'))).toBe(32), backend);
  });

  it('fills a workspaceMiB 8 workspace at 8 MiB (ENOSPC), in memory charged to the sandbox, not on host disk', async () => {
    await withSandbox({ workspaceMiB: 8 }, async (sandbox) => {
      const result = await sandbox.exec({ argv: ['dd', 'if=/dev/zero', 'of=/workspace/big', 'bs=1M', 'count=20'], timeoutMs: 60_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/No space left on device/);
      const size = (await sandbox.exec({ argv: ['stat', '-c', '%s', '/workspace/big'] })).stdout.toString().trim();
      expect(Number(size)).toBe(8 * MiB);
      await expect(sandbox.writeFile('/workspace/more', Buffer.alloc(MiB))).rejects.toThrow(/No space left on device/);
      // the 8 MiB are tmpfs pages in the container's memory cgroup
      expect(Number(/^shmem (\d+)$/m.exec(cgroupFile(sandbox, 'memory', 'memory.stat'))?.[1])).toBeGreaterThanOrEqual(8 * MiB);
      // and nothing of them on the host: the sandbox's host dir holds runc's bundle and state, a few KiB
      expect(readdirSync(sandbox.paths.dir).sort()).toEqual(['bundle', 'state']);
      const du = (dir: string): number =>
        readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
          const path = join(dir, entry.name);
          return sum + (entry.isDirectory() ? du(path) : entry.isFile() ? readFileSync(path).length : 0);
        }, 0);
      expect(du(sandbox.paths.dir)).toBeLessThan(MiB);
    });
  });

  it('refuses limits that are not whole numbers, and memory runc cannot start in', async () => {
    await expect(runcBackend.create({ memoryMiB: 4 })).rejects.toThrow(/spec.memoryMiB: runc needs at least 8 MiB/);
    await expect(runcBackend.create({ memoryMiB: 1.5 })).rejects.toThrow(/memoryMiB: expected a whole number >= 1/);
    await expect(runcBackend.create({ workspaceMiB: 0 })).rejects.toThrow(/workspaceMiB: expected a whole number >= 1/);
    await expect(runcBackend.create({ pidsLimit: -1 })).rejects.toThrow(/pidsLimit: expected a whole number >= 1/);
  });
});
