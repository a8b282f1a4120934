/**
 * gVisor snapshots on real runsc (ptrace here): one sandbox, one snapshot, restores of it. The saved
 * sandbox runs on; two restores share nothing (files, random numbers) and each has the host's time;
 * a damaged, missing or foreign snapshot is refused naming the file or field with nothing started;
 * an image runsc cannot load fails with runsc's words and leaves nothing running; a save onto a full
 * filesystem leaves no directory, partial or whole, and the sandbox runs on.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damagedCopy, editManifest } from '../../../helpers/snapshot-files.ts';
import { readProcTable } from '../../../../base/proc-table.ts';
import { gvisorBackend } from '../../../../sandbox-core/backends/gvisor.ts';
import { watchdogName } from '../../../../sandbox-core/backends/runc/watchdog.ts';
import { digestOf } from '../../../../sandbox-core/backends/snapshot-manifest.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { settlesToZero } from '../../../helpers/leftovers.ts';
import { mountTmpfs } from '../../../helpers/small-mounts.ts';
import { sh } from '../../../helpers/sandbox-sh.ts';

const availability = await gvisorBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
/** Every sandbox of this test process is named so, in its runsc processes' command lines and its cgroups. */
const OURS = `rigor-gvisor-${process.pid}-`;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Live processes of this test's sandboxes other than `keep`'s: named for one, or in one's cgroup. */
function othersRunning(keep: string): number {
  return readProcTable().filter((entry) => {
    if (entry.state === 'Z' || entry.pid === process.pid) return false;
    const where = `${read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ')}\n${read(`/proc/${entry.pid}/cgroup`)}`;
    return where.includes(OURS) && !where.includes(keep) && !where.includes(watchdogName('gvisor'));
  }).length;
}



describe.skipIf(!availability.ok)(`gvisor snapshots${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'rigor-gvisor-snapshot-test-'));
  const snapshot = join(root, 'saved');
  let source: Sandbox;
  let savedAt: number;

  beforeAll(async () => {
    source = await gvisorBackend.create({ env: { FROM_SPEC: 'kept' } });
    await source.writeFile('/workspace/before', 'written before the save');
    const info = await source.snapshot!(snapshot);
    savedAt = Date.now();
    expect(info.dir).toBe(snapshot);
    expect(info.bytes).toBeGreaterThan(0);
    expect(info.allocatedBytes).toBeGreaterThan(0);
  }, 120_000);
  afterAll(async () => {
    await source?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('snapshotSupport() is found by doing it, and says yes here', async () => {
    expect(await gvisorBackend.snapshotSupport()).toEqual({ ok: true });
  });

  it("writes runsc's image and the manifest into the directory, and the saved sandbox runs on", async () => {
    expect(readdirSync(snapshot).sort()).toEqual(['checkpoint.img', 'manifest.json']);
    expect(readdirSync(root)).toEqual(['saved']);
    expect(await sh(source, 'cat /workspace/before; echo " $FROM_SPEC"')).toBe('written before the save kept\n');
    await source.writeFile('/workspace/after-save', 'source only');
    await expect(source.snapshot!(snapshot)).rejects.toThrow(`snapshot ${snapshot}: already exists`);
  });

  it("restores twice: what was written before the save is in both, what one writes never reaches the other; random numbers differ; the clock is the host's", async () => {
    // The snapshot must be older than the restore, or a clock left at the moment of the save would pass too.
    while (Date.now() < savedAt + 3000) await new Promise((resolve) => setTimeout(resolve, 100));
    const restoredAt = Date.now();
    const [a, b] = [await gvisorBackend.restore(snapshot), await gvisorBackend.restore(snapshot)];
    try {
      expect(a.id).not.toBe(b.id);
      for (const restored of [a, b]) {
        expect(restored.phases.ready).toBeGreaterThan(restored.phases.launched!);
        expect(await sh(restored, 'cat /workspace/before; echo " $FROM_SPEC"')).toBe('written before the save kept\n');
      }
      await a.writeFile('/workspace/only-a', 'a');
      await sh(b, 'echo b > /workspace/only-b');
      expect(await sh(a, 'ls /workspace')).toBe('before\nonly-a\n');
      expect(await sh(b, 'ls /workspace')).toBe('before\nonly-b\n');
      expect(await sh(source, 'ls /workspace')).toBe('after-save\nbefore\n');
      const [randomA, randomB] = await Promise.all([a, b].map((restored) => sh(restored, 'head -c 16 /dev/urandom | od -An -tx1')));
      expect(randomA).not.toBe(randomB);
      for (const restored of [a, b]) {
        const seconds = Number(await sh(restored, 'date +%s'));
        // Not a bound on time: a clock that stood still since the save would be 3 s behind.
        expect(seconds * 1000).toBeGreaterThanOrEqual(restoredAt - 1000);
      }
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    const again = await gvisorBackend.restore(snapshot);
    try {
      expect(await sh(again, 'ls /workspace')).toBe('before\n');
    } finally {
      await again.destroy();
    }
  });

  it('refuses a missing, damaged or foreign snapshot before starting anything, naming the file or field', async () => {
    const cases: Array<[string, (dir: string) => void, RegExp]> = [
      ['no-manifest', (dir) => rmSync(join(dir, 'manifest.json')), /no manifest\.json \(not a snapshot directory, or one whose save did not finish\)/],
      ['bad-json', (dir) => writeFileSync(join(dir, 'manifest.json'), '{"format": "rigor-gvisor-snap'), /manifest\.json: not JSON/],
      ['bad-field', (dir) => editManifest(dir, (m) => (m.platform = 'bare-metal')), /manifest\.json: field platform: .*found "bare-metal"/],
      ['image-flipped', (dir) => writeFileSync(join(dir, 'checkpoint.img'), Buffer.from('not the saved image')), /checkpoint\.img: 19 bytes with sha256 .* the file is damaged/],
      ['image-cut', (dir) => truncateSync(join(dir, 'checkpoint.img'), 4096), /checkpoint\.img: 4096 bytes with sha256 .* the file is damaged/],
      ['no-image', (dir) => rmSync(join(dir, 'checkpoint.img')), /checkpoint\.img: ENOENT/],
      ['other-runsc', (dir) => editManifest(dir, (m) => (m.runsc = 'release-20240101.0')), /was saved by runsc release-20240101\.0, this host runs runsc \S+: runsc restores only an image of its own version/],
      ['other-platform', (dir) => editManifest(dir, (m) => (m.platform = 'kvm')), /was saved on runsc's kvm platform, this backend runs ptrace/],
      ['other-rootfs', (dir) => editManifest(dir, (m) => (m.rootfs = 'feedfacefeedface')), /was saved over rootfs feedfacefeedface, this backend's is \S+: the restored Sentry must find the root filesystem/],
    ];
    for (const [name, change, message] of cases) {
      const dir = damagedCopy(snapshot, root, name, change);
      await expect(gvisorBackend.restore(dir), name).rejects.toThrow(message);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(liveSandboxes().filter((sandbox) => sandbox.id !== source.id)).toEqual([]);
  });

  it("an image runsc cannot load (its manifest agreeing) fails the restore with runsc's words, and nothing is left running", async () => {
    const dir = damagedCopy(snapshot, root, 'unloadable', (copy) => {
      const image = readFileSync(join(copy, 'checkpoint.img'));
      image.fill(0x5a, 64, Math.min(image.length, 8192));
      writeFileSync(join(copy, 'checkpoint.img'), image);
    });
    const digest = await digestOf(join(dir, 'checkpoint.img'));
    editManifest(dir, (m) => (m.files.image = digest));
    await expect(gvisorBackend.restore(dir)).rejects.toThrow(/rigor-gvisor-\d+-\w+: the launcher exited with code \d+ before the agent answered; runsc restore said: \S/);
    expect(liveSandboxes().filter((sandbox) => sandbox.id !== source.id)).toEqual([]);
    expect(await settlesToZero(() => othersRunning(source.id))).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a save onto a full filesystem fails naming it, leaves no directory, and the sandbox runs on', async () => {
    const small = mountTmpfs(64);
    try {
      const target = join(small.path, 'snap');
      await expect(source.snapshot!(target)).rejects.toThrow(/failed, nothing was written there: .*no space left on device/i);
      expect(readdirSync(small.path)).toEqual([]);
      expect(existsSync(target)).toBe(false);
      expect(await sh(source, 'cat /workspace/before')).toBe('written before the save');
    } finally {
      small.remove();
    }
  });
});
