/**
 * qemu snapshots on a real guest (TCG here): one cold boot, one snapshot, restores of it. Two
 * restores share nothing (files, random numbers) and each gets the host's time; a restored guest
 * saves again; a damaged, missing, foreign or unloadable snapshot is refused with the file named and
 * no qemu left; a save onto a full filesystem leaves no directory, partial or whole, and the guest runs on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damagedCopy, editManifest } from '../../../helpers/snapshot-files.ts';
import { qemuBackend, type QemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { processesWithEnv, settlesToZero } from '../../../helpers/leftovers.ts';
import { sh } from '../../../helpers/sandbox-sh.ts';
import { mountTmpfs } from '../../../helpers/small-mounts.ts';

const backend = qemuBackend as QemuBackend;
const availability = await backend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
/** Every qemu this test process started carries this in its environment. */
const OURS = `RIGOR_SANDBOX_ID=qemu-${process.pid}-`;

describe.skipIf(!availability.ok)(`qemu snapshots${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'rigor-snapshot-test-'));
  const snapshot = join(root, 'saved');
  let source: Sandbox;
  let savedAt: number;

  beforeAll(async () => {
    source = await backend.create({ env: { FROM_SPEC: 'kept' } });
    await source.writeFile('/workspace/before', 'written before the save');
    const info = await source.snapshot!(snapshot);
    savedAt = Date.now();
    expect(info.dir).toBe(snapshot);
    expect(info.allocatedBytes).toBeGreaterThan(0);
    // guest RAM is sparse: only what the guest touched takes blocks
    expect(info.allocatedBytes).toBeLessThan(info.bytes);
  }, 120_000);
  afterAll(async () => {
    await source?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes manifest, state and RAM into the directory, and leaves the guest running', async () => {
    expect(readdirSync(snapshot).sort()).toEqual(['manifest.json', 'ram', 'state']);
    expect(readdirSync(root)).toEqual(['saved']);
    expect(await sh(source, 'cat /workspace/before')).toBe('written before the save');
    await expect(source.snapshot!(snapshot)).rejects.toThrow(`snapshot ${snapshot}: already exists`);
  });

  it('restores twice: what was written before the save is in both, what one writes after never reaches the other; random numbers differ; the clock is the host\'s', async () => {
    // The snapshot must be older than the restore, or a clock left at the moment of the save would pass too.
    while (Date.now() < savedAt + 3000) await new Promise((resolve) => setTimeout(resolve, 100));
    const restoredAt = Date.now();
    const [a, b] = [await backend.restore!(snapshot), await backend.restore!(snapshot)];
    try {
      for (const restored of [a, b]) {
        expect(restored.phases.ready).toBeGreaterThan(restored.phases.loaded!);
        expect(await sh(restored, 'cat /workspace/before; echo " $FROM_SPEC"')).toBe('written before the save kept\n');
      }
      await a.writeFile('/workspace/only-a', 'a');
      await sh(b, 'echo b > /workspace/only-b');
      expect(await sh(a, 'ls /workspace')).toBe('before\nonly-a\n');
      expect(await sh(b, 'ls /workspace')).toBe('before\nonly-b\n');
      const [randomA, randomB] = await Promise.all([a, b].map((restored) => sh(restored, 'head -c 16 /dev/urandom | od -An -tx1')));
      expect(randomA).not.toBe(randomB);
      for (const restored of [a, b]) {
        const guestSeconds = Number(await sh(restored, 'date +%s'));
        // Not a bound on time: without RESEED the guest's clock is 3 s behind the host's (it stood still since the save).
        expect(guestSeconds * 1000).toBeGreaterThanOrEqual(restoredAt - 1000);
      }
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    // and nothing of the restores reached the snapshot
    const again = await backend.restore!(snapshot);
    try {
      expect(await sh(again, 'ls /workspace')).toBe('before\n');
    } finally {
      await again.destroy();
    }
  });

  it('saves a restored guest again, and restores that', async () => {
    const restored = await backend.restore!(snapshot);
    const second = join(root, 'second');
    try {
      await sh(restored, 'echo after > /workspace/after');
      await restored.snapshot!(second);
    } finally {
      await restored.destroy();
    }
    const again = await backend.restore!(second);
    try {
      expect(await sh(again, 'ls /workspace')).toBe('after\nbefore\n');
    } finally {
      await again.destroy();
      rmSync(second, { recursive: true, force: true });
    }
  });

  it('refuses a missing, damaged or foreign snapshot before starting anything, naming the file', async () => {
    const cases: Array<[string, (dir: string) => void, RegExp]> = [
      ['no-manifest', (dir) => rmSync(join(dir, 'manifest.json')), /no manifest\.json \(not a snapshot directory, or one whose save did not finish\)/],
      ['bad-json', (dir) => writeFileSync(join(dir, 'manifest.json'), '{"format": "rigor-qemu-snap'), /manifest\.json: not JSON/],
      ['bad-field', (dir) => editManifest(dir, (m) => (m.memory_mib = 'lots')), /manifest\.json: field memory_mib: .*found "lots"/],
      ['state-flipped', (dir) => writeFileSync(join(dir, 'state'), Buffer.from('not the saved state')), /state: 19 bytes with sha256 .* the file is damaged/],
      ['no-ram', (dir) => rmSync(join(dir, 'ram')), /ram: ENOENT/],
      ['ram-cut', (dir) => truncateSync(join(dir, 'ram'), 4096), /ram: 4096 bytes, manifest\.json says \d+: the file is damaged or cut short/],
      ['other-qemu', (dir) => editManifest(dir, (m) => (m.qemu = 'QEMU emulator version 6.2.0')), /was saved by "QEMU emulator version 6\.2\.0", this host runs "QEMU emulator version .*": qemu restores only a stream of its own version/],
      ['other-kernel', (dir) => editManifest(dir, (m) => (m.kernel = { version: '5.10.0-other', sha256: 'a'.repeat(64) })), /was saved with guest kernel 5\.10\.0-other .* a saved guest restores only into the kernel that saved it/],
    ];
    for (const [name, change, message] of cases) {
      const dir = damagedCopy(snapshot, root, name, change);
      await expect(backend.restore!(dir), name).rejects.toThrow(message);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(liveSandboxes().filter((sandbox) => sandbox.id !== source.id)).toEqual([]);
  });

  it('a state qemu cannot load (its manifest agreeing) fails the restore with qemu\'s reason, and no qemu is left', async () => {
    const dir = damagedCopy(snapshot, root, 'unloadable', (copy) => {
      const state = readFileSync(join(copy, 'state'));
      state.fill(0x5a, 64, 4096); // past qemu's header: a device section qemu cannot parse
      writeFileSync(join(copy, 'state'), state);
      const sha256 = execFileSync('sha256sum', [join(copy, 'state')], { encoding: 'utf8' }).split(' ')[0];
      editManifest(copy, (m) => (m.files.state.sha256 = sha256));
    });
    await expect(backend.restore!(dir)).rejects.toThrow(/qemu exited with code 1; qemu said: .*load of migration failed/s);
    expect(liveSandboxes().filter((sandbox) => sandbox.id !== source.id)).toEqual([]);
    // the source's qemu is the only one of ours
    expect(await settlesToZero(() => processesWithEnv(OURS).filter((pid) => !processesWithEnv(`RIGOR_SANDBOX_ID=${source.id}`).includes(pid)).length)).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a save onto a full filesystem fails naming it, leaves no directory, and the guest runs on', async () => {
    const small = mountTmpfs(2048);
    try {
      const target = join(small.path, 'snap');
      await expect(source.snapshot!(target)).rejects.toThrow(/failed, nothing was written there: .*No space left on device/);
      expect(readdirSync(small.path)).toEqual([]);
      expect(existsSync(target)).toBe(false);
      expect(await sh(source, 'cat /workspace/before')).toBe('written before the save');
    } finally {
      small.remove();
    }
  });
});
