/**
 * qemu forks on a real guest (TCG here): the parent runs on after the fork; what it wrote before (a file, a
 * binary "installed" in the workspace: the root image is read-only) is in each child; a child's writes reach
 * neither the parent nor a sibling; the image counts allocated blocks (guest RAM is sparse) and says it was
 * copied, not cloned, where the filesystem does not clone; a fork into an existing directory or of a
 * destroyed guest is refused and leaves nothing.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import { reflinkWorksIn } from '../../../../sandbox-core/backends/image-copy.ts';
import type { ForkInfo, Sandbox } from '../../../../sandbox-core/backends/types.ts';
import { sh } from '../../../helpers/sandbox-sh.ts';

const availability = await qemuBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

describe.skipIf(!availability.ok)(`qemu fork${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'rigor-qemu-fork-test-'));
  const image = join(root, 'image');
  let parent: Sandbox;
  let info: ForkInfo;

  beforeAll(async () => {
    parent = await qemuBackend.create({ env: { FROM_SPEC: 'kept' } });
    await parent.writeFile('/workspace/before', 'written before the fork');
    await sh(parent, 'mkdir -p /workspace/bin && cp /bin/busybox /workspace/bin/busybox && chmod 755 /workspace/bin/busybox');
    info = await parent.fork!(image);
  }, 120_000);
  afterAll(async () => {
    await parent?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a whole image, counted by allocated blocks, copied (not cloned) unless the filesystem clones; the parent runs on', async () => {
    expect(readdirSync(root)).toEqual(['image']);
    expect(readdirSync(image).sort()).toEqual(['manifest.json', 'ram', 'state']);
    expect(info.copy).toBe((await reflinkWorksIn(root)) ? 'reflink' : 'copy');
    expect(info.allocatedBytes).toBeGreaterThan(0);
    expect(info.allocatedBytes).toBeLessThan(info.bytes);
    expect(await sh(parent, 'cat /workspace/before')).toBe('written before the fork');
  });

  it('starts two children with what was written before the fork; writes of each reach neither the parent nor the other', async () => {
    const [a, b] = [await qemuBackend.fromFork!(image), await qemuBackend.fromFork!(image)];
    try {
      for (const child of [a, b]) {
        expect(await sh(child, 'cat /workspace/before; echo " $FROM_SPEC"')).toBe('written before the fork kept\n');
        expect(await sh(child, '/workspace/bin/busybox echo installed')).toBe('installed\n');
      }
      await a.writeFile('/workspace/only-a', 'a');
      await sh(b, 'echo b > /workspace/only-b');
      await sh(parent, 'echo p > /workspace/only-parent');
      expect(await sh(a, 'ls /workspace')).toBe('before\nbin\nonly-a\n');
      expect(await sh(b, 'ls /workspace')).toBe('before\nbin\nonly-b\n');
      expect(await sh(parent, 'ls /workspace')).toBe('before\nbin\nonly-parent\n');
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('refuses to fork into an existing directory or from a destroyed guest, leaving nothing behind', async () => {
    await expect(parent.fork!(image)).rejects.toThrow(`fork ${image}: already exists`);
    const gone = await qemuBackend.create();
    await gone.destroy();
    await expect(gone.fork!(join(root, 'from-destroyed'))).rejects.toThrow(/sandbox is destroyed/);
    expect(readdirSync(root)).toEqual(['image']);
  });
});
