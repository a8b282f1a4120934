import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuncBackend, runcBackend } from '../../../sandbox-core/backends/runc.ts';
import { dirOf } from '../../../sandbox-core/backends/runc/cgroups.ts';
import { DEFAULT_PIDS_LIMIT } from '../../../sandbox-core/backends/runc/oci-config.ts';
import type { RuncSandbox } from '../../../sandbox-core/backends/runc/sandbox.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const MiB = 1024 * 1024;

describe.skipIf(!availability.ok)(`runc cgroup limits${skipReason}`, () => {
  let sandbox: RuncSandbox;
  let memory: string;
  beforeAll(async () => {
    sandbox = (await runcBackend.create({ memoryMiB: 32 })) as RuncSandbox;
    memory = dirOf(sandbox.cgroups, 'memory')!;
  });
  afterAll(async () => {
    await sandbox?.destroy();
  });

  it('writes the memory and pids limits into the container cgroups', () => {
    expect(Number(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8'))).toBe(32 * MiB);
    expect(Number(readFileSync(join(dirOf(sandbox.cgroups, 'pids')!, 'pids.max'), 'utf8'))).toBe(DEFAULT_PIDS_LIMIT);
  });

  it('OOM-kills a command that allocates beyond the limit, and the agent lives on', async () => {
    // awk doubles a string 28 times: 256 MiB wanted, 32 MiB allowed
    const result = await sandbox.exec({ argv: ['awk', 'BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s; print length(s) }'], timeoutMs: 20_000 });
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout.toString()).toBe('');
    expect(readFileSync(join(memory, 'memory.oom_control'), 'utf8')).toMatch(/^oom_kill [1-9]/m);
    expect(Number(readFileSync(join(memory, 'memory.max_usage_in_bytes'), 'utf8'))).toBeLessThanOrEqual(32 * MiB);
    expect((await sandbox.exec({ argv: ['echo', 'alive'] })).stdout.toString()).toBe('alive\n');
  });

  it('stops a fork bomb at pids.max', async () => {
    const small = (await new RuncBackend({ pidsLimit: 16 }).create()) as RuncSandbox;
    try {
      expect(Number(readFileSync(join(dirOf(small.cgroups, 'pids')!, 'pids.max'), 'utf8'))).toBe(16);
      // 40 background sleeps where 16 processes are allowed
      const result = await small.exec({ argv: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; kill -9 -1'], timeoutMs: 20_000 });
      expect(result.stderr.toString()).toMatch(/can't fork|Resource temporarily unavailable/);
    } finally {
      await small.destroy();
    }
  });
});
