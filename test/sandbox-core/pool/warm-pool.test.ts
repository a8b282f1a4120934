/** The warm pool with real bwrap, docker and podman sandboxes: paused while idle, fresh on every acquire, refilled, nothing reused. */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { dockerBackend } from '../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../sandbox-core/backends/engines/backend.ts';
import { runEngineOrThrow } from '../../../sandbox-core/backends/engines/engine.ts';
import { podmanBackend } from '../../../sandbox-core/backends/podman.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import type { Backend } from '../../../sandbox-core/backends/types.ts';
import { WarmPool } from '../../../sandbox-core/pool/warm-pool.ts';

const bwrap = await bwrapBackend.available();

async function run(sandbox: { exec: (r: { argv: string[] }) => Promise<{ stdout: Buffer; exitCode: number | null }> }, script: string) {
  const result = await sandbox.exec({ argv: ['sh', '-c', script] });
  return { out: result.stdout.toString('utf8').trim(), code: result.exitCode };
}

describe.skipIf(!bwrap.ok)(`warm pool on bwrap${bwrap.ok ? '' : ` (skipped: ${!bwrap.ok && bwrap.reason})`}`, () => {
  const pool = new WarmPool(bwrapBackend, { size: 2 });
  afterAll(() => pool.close());

  it('fills with paused sandboxes', async () => {
    await pool.fill();
    expect(pool.idle).toBe(2);
    expect(pool.counts.created).toBe(2);
  });

  it('acquire resumes one and its agent answers, with times ordered', async () => {
    const { sandbox, times } = await pool.acquire();
    expect(times.taken).toBeLessThanOrEqual(times.resumed);
    expect(times.resumed).toBeLessThanOrEqual(times.ready);
    expect((await run(sandbox, 'echo ready')).out).toBe('ready');
    await pool.release(sandbox);
  });

  it('never hands out a used sandbox: a marker written in one is invisible in the next, and their pid namespaces differ', async () => {
    const first = await pool.acquire();
    await run(first.sandbox, 'echo secret > /workspace/marker; echo secret > /tmp/marker');
    const firstNs = (await run(first.sandbox, 'readlink /proc/self/ns/pid')).out;
    await pool.release(first.sandbox);

    const second = await pool.acquire();
    expect(second.sandbox.id).not.toBe(first.sandbox.id);
    const seen = await run(second.sandbox, 'cat /workspace/marker /tmp/marker 2>&1; echo; readlink /proc/self/ns/pid');
    expect(seen.out).not.toContain('secret');
    expect(seen.out.split('\n').at(-1)).not.toBe(firstNs);
    await pool.release(second.sandbox);
  });

  it('an idle sandbox is really paused: its processes are stopped (state T)', async () => {
    await pool.fill();
    const { sandbox } = await pool.acquire();
    // The still-idle ones: find their processes by sandbox id in /proc and check their state.
    const idle = pool.idleIds();
    expect(idle.length).toBeGreaterThan(0);
    const { readdirSync, readFileSync } = await import('node:fs');
    const states: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
        if (!idle.some((id) => environ.includes(`RIGOR_SANDBOX_ID=${id}\0`))) continue;
        states.push(/^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!);
      } catch {
        // exited meanwhile
      }
    }
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((state) => state === 'T')).toBe(true);
    await pool.release(sandbox);
  });
});

describe('warm pool on the process backend', () => {
  it('refills after release, and close() destroys the idle ones', async () => {
    const pool = new WarmPool(processBackend, { size: 1 });
    await pool.fill();
    const { sandbox } = await pool.acquire();
    await pool.release(sandbox);
    await pool.warm(1);
    expect(pool.idle).toBe(1);
    expect(pool.counts.created).toBe(2);
    await pool.close();
    expect(pool.idle).toBe(0);
    await expect(pool.acquire()).rejects.toThrow(/closed/);
  });

  it('reports a failed create, retries after a backoff, and recovers when creates succeed again', async () => {
    // Real process sandboxes; the first two creates are refused as a backend that cannot start would refuse them.
    let attempts = 0;
    const flaky: Backend = {
      name: 'flaky',
      available: () => processBackend.available(),
      create: (spec) => (++attempts <= 2 ? Promise.reject(new Error(`create ${attempts} refused`)) : processBackend.create(spec)),
    };
    const pool = new WarmPool(flaky, { size: 1, fillConcurrency: 1 });
    await expect(pool.warm(1)).rejects.toThrow('create 1 refused');
    await expect(pool.acquire()).rejects.toThrow('create 1 refused');
    // Retried after 100 ms, then 200 ms: no spinning in between, and the pool heals itself.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(attempts).toBe(1);
    for (let waited = 0; pool.idle === 0 && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(attempts).toBe(3);
    const { sandbox } = await pool.acquire();
    expect((await run(sandbox, 'echo back')).out).toBe('back');
    await pool.release(sandbox);
    await pool.close();
  });

  it('a lasting failure is retried with a growing delay, not in a loop', async () => {
    let attempts = 0;
    const broken: Backend = { name: 'broken', available: () => processBackend.available(), create: () => Promise.reject(new Error(`no ${++attempts}`)) };
    const pool = new WarmPool(broken, { size: 2, fillConcurrency: 2 });
    await expect(pool.fill()).rejects.toThrow(/^no [12]$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // 2 at once, then retries after 100, 200 (and 400) ms of backoff: a handful, not hundreds.
    expect(attempts).toBeGreaterThanOrEqual(4);
    expect(attempts).toBeLessThanOrEqual(10);
    await pool.close();
  });

  it('rejects a bad size', () => {
    expect(() => new WarmPool(processBackend, { size: 0 })).toThrow(/whole number >= 1 \(0 only with a durable tier\)/);
  });

  it('says which tier served each acquire: hot when one was idle, cold when the hot tier was empty and its refill booted one', async () => {
    const pool = new WarmPool(processBackend, { size: 1, fillConcurrency: 1 });
    await pool.fill();
    const first = await pool.acquire();
    expect(first.tier).toBe('hot');
    // The pool is empty now: the next acquire waits for the refill's cold create.
    const second = await pool.acquire();
    expect(second.tier).toBe('cold');
    expect(pool.counts).toMatchObject({ created: 2, restored: 0, acquired: 2, waited: 1, served: { hot: 1, durable: 0, cold: 1 } });
    await Promise.all([pool.release(first.sandbox), pool.release(second.sandbox)]);
    await pool.close();
  });

  it('refuses a durable tier on a backend without restore, and with snapshotSupport()\'s reason on one that cannot snapshot here', async () => {
    expect(() => new WarmPool(processBackend, { size: 0, durable: {} })).toThrow('pool: backend process has no snapshot/restore: it cannot keep a durable tier');
    // A real backend whose snapshots the host cannot take (as runc's are with a failing `criu check`): nothing is made.
    let made = 0;
    const unsupported: Backend = {
      name: 'no-criu',
      available: () => processBackend.available(),
      create: (spec) => (made++, processBackend.create(spec)),
      restore: () => Promise.reject(new Error('restore must not be called')),
      snapshotSupport: async () => ({ ok: false, reason: 'criu check: vdso: Failed to fill self vdso symtable' }),
    };
    for (const size of [0, 2]) {
      const pool = new WarmPool(unsupported, { size, durable: {} });
      await expect(pool.fill()).rejects.toThrow('pool: backend no-criu cannot keep a durable tier here: criu check: vdso: Failed to fill self vdso symtable');
      await expect(pool.acquire()).rejects.toThrow(/cannot keep a durable tier here/);
      await pool.close();
    }
    expect(made).toBe(0);
  });
});

/** The same pool over docker and podman containers: idle ones paused by the engine's freezer, each acquire a fresh container. */
for (const engine of [dockerBackend, podmanBackend] as EngineBackend[]) {
  const availability = await engine.available();
  describe.skipIf(!availability.ok)(`warm pool on ${engine.name}${availability.ok ? '' : ` (skipped: ${availability.reason})`}`, () => {
    const pool = new WarmPool(engine, { size: 2 });
    afterAll(() => pool.close());

    it('fills with containers whose processes are frozen (their freezer cgroup, as the engine would), and an acquired one answers', async () => {
      await pool.fill();
      expect(pool.idle).toBe(2);
      const connection = await engine.connection();
      /** The container's freezer state, read from the cgroup of its first process. */
      const freezerState = async (id: string) => {
        const pid = Number(await runEngineOrThrow(connection, ['inspect', '--format', '{{.State.Pid}}', id]));
        const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((entry) => /^\d+:freezer:/.test(entry))!;
        return readFileSync(`/sys/fs/cgroup/freezer${line.split(':')[2]}/freezer.state`, 'utf8').trim();
      };
      for (const id of pool.idleIds()) expect(await freezerState(id)).toBe('FROZEN');
      const { sandbox, times } = await pool.acquire();
      expect(times.resumed).toBeLessThanOrEqual(times.ready);
      expect(await freezerState(sandbox.id)).toBe('THAWED');
      expect((await run(sandbox, 'echo ready')).out).toBe('ready');
      await pool.release(sandbox);
    });

    it('never hands out a used container: a marker written in one is invisible in the next', async () => {
      const first = await pool.acquire();
      await run(first.sandbox, 'echo secret > /workspace/marker; echo secret > /tmp/marker');
      await pool.release(first.sandbox);
      const second = await pool.acquire();
      expect(second.sandbox.id).not.toBe(first.sandbox.id);
      expect((await run(second.sandbox, 'cat /workspace/marker /tmp/marker 2>&1')).out).not.toContain('secret');
      await pool.release(second.sandbox);
    });
  });
}
