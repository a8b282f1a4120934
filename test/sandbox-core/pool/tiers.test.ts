/**
 * The warm pool's tiers on real qemu guests (TCG here): a durable tier saved once and restored from, a
 * hot tier refilled by restoring it rather than by cold boots, the tier of every acquire, a damaged or
 * deleted snapshot taking the durable tier out of service (the file named) while the pool serves on by
 * cold create with no half-restored qemu left, and close() leaving no qemu and no snapshot directory.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import { liveSandboxes } from '../../../sandbox-core/cleanup.ts';
import { WarmPool } from '../../../sandbox-core/pool/warm-pool.ts';
import { processesWithEnv, settlesToZero } from '../../helpers/leftovers.ts';
import { sh } from '../../helpers/sandbox-sh.ts';

const availability = await qemuBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
/** Every qemu this test process started carries this in its environment. */
const OURS = `RIGOR_SANDBOX_ID=qemu-${process.pid}-`;
/** TCG boots are slow on a loaded 2-core host. */
const SLOW = 180_000;

/** close() leaves none of our qemu processes, and no pool directory. */
async function closedClean(pool: WarmPool, snapshotDir: string): Promise<void> {
  await pool.close();
  expect(liveSandboxes()).toEqual([]);
  expect(await settlesToZero(() => processesWithEnv(OURS).length)).toBe(0);
  expect(existsSync(dirname(snapshotDir))).toBe(false);
}

describe.skipIf(!availability.ok)(`warm pool tiers on qemu${skipReason}`, () => {
  it('durable + hot: fill saves once and fills the hot tier by restoring; acquires are served hot; a release refills by restore, not by cold boot', async () => {
    const pool = new WarmPool(qemuBackend, { size: 2, durable: {} });
    let snapshotDir = '';
    try {
      await pool.fill();
      snapshotDir = pool.snapshotDir!;
      expect(readdirSync(snapshotDir).sort()).toEqual(['manifest.json', 'ram', 'state']);
      // One cold boot, saved; both hot sandboxes restored from it.
      expect(pool.counts).toMatchObject({ created: 1, saved: 1, restored: 2, durableFailures: 0 });
      const { sandbox, tier, times } = await pool.acquire();
      expect(tier).toBe('hot');
      expect(times.resumed).toBeLessThanOrEqual(times.ready);
      expect(await sh(sandbox, 'echo ready')).toBe('ready\n');
      await pool.release(sandbox);
      await pool.warm(2);
      expect(pool.counts).toMatchObject({ created: 1, saved: 1, restored: 3, served: { hot: 1, durable: 0, cold: 0 } });
    } finally {
      await closedClean(pool, snapshotDir || '/nonexistent/x');
    }
  }, SLOW);

  it('durable only: each acquire restores a fresh guest from the snapshot (tier durable); one acquire\'s writes never reach the next', async () => {
    const pool = new WarmPool(qemuBackend, { size: 0, durable: {} });
    let snapshotDir = '';
    try {
      await pool.fill();
      snapshotDir = pool.snapshotDir!;
      const a = await pool.acquire();
      const b = await pool.acquire();
      expect([a.tier, b.tier]).toEqual(['durable', 'durable']);
      await sh(a.sandbox, 'echo secret > /workspace/marker');
      expect(await sh(b.sandbox, 'cat /workspace/marker 2>/dev/null; echo end')).toBe('end\n');
      expect(pool.counts).toMatchObject({ created: 1, restored: 2, served: { hot: 0, durable: 2, cold: 0 } });
      await Promise.all([pool.release(a.sandbox), pool.release(b.sandbox)]);
    } finally {
      await closedClean(pool, snapshotDir || '/nonexistent/x');
    }
  }, SLOW);

  it('a damaged snapshot: the durable tier goes out of service naming the file, acquires are served by cold create, and no half-restored qemu is left', async () => {
    const pool = new WarmPool(qemuBackend, { size: 0, durable: {} });
    const snapshotDir = await pool.fill().then(() => pool.snapshotDir!);
    try {
      writeFileSync(join(snapshotDir, 'state'), 'not the saved state');
      const first = await pool.acquire();
      expect(first.tier).toBe('cold');
      expect(pool.durableError?.message).toMatch(
        new RegExp(`^pool: durable tier out of service, serving from cold create: restoring ${snapshotDir} failed: ${join(snapshotDir, 'state')}: 19 bytes .* the file is damaged`),
      );
      expect(await sh(first.sandbox, 'echo cold')).toBe('cold\n');
      // Only the cold-booted guest runs: the failed restore left nothing.
      expect(liveSandboxes().map((sandbox) => sandbox.id)).toEqual([first.sandbox.id]);
      // Out of service for good: the next acquire does not try the snapshot again.
      const second = await pool.acquire();
      expect(second.tier).toBe('cold');
      expect(pool.counts).toMatchObject({ created: 3, restored: 0, durableFailures: 1, served: { hot: 0, durable: 0, cold: 2 } });
      await Promise.all([pool.release(first.sandbox), pool.release(second.sandbox)]);
    } finally {
      await closedClean(pool, snapshotDir);
    }
  }, SLOW);

  it('a deleted snapshot file under a hot tier: the hot tier is refilled by cold create instead, and says so', async () => {
    const pool = new WarmPool(qemuBackend, { size: 1, durable: {}, fillConcurrency: 1 });
    const snapshotDir = await pool.fill().then(() => pool.snapshotDir!);
    try {
      expect(pool.counts).toMatchObject({ created: 1, restored: 1 });
      rmSync(join(snapshotDir, 'ram'));
      const first = await pool.acquire();
      expect(first.tier).toBe('hot');
      await pool.release(first.sandbox);
      await pool.warm(1);
      expect(pool.durableError?.message).toMatch(
        new RegExp(`^pool: durable tier out of service, serving from the hot tier, refilled by cold create: restoring ${snapshotDir} failed: snapshot ${snapshotDir}: ram: ENOENT`),
      );
      expect(pool.counts).toMatchObject({ created: 2, restored: 1, durableFailures: 1 });
      expect(pool.idle).toBe(1);
      expect(liveSandboxes()).toHaveLength(1);
      const second = await pool.acquire();
      expect(second.tier).toBe('hot');
      expect(await sh(second.sandbox, 'echo served')).toBe('served\n');
      await pool.release(second.sandbox);
    } finally {
      await closedClean(pool, snapshotDir);
    }
  }, SLOW);
});
