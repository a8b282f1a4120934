/**
 * runc forks on real containers: what the parent wrote before the fork (a file, an executable "installed" in
 * the workspace, a sparse file) is in each child, owned by the child's own command user; a child's writes
 * reach neither the parent nor a sibling, nor the image; sizes count allocated blocks; a fork of a destroyed
 * sandbox or into an existing directory is refused and leaves nothing; a damaged image starts no child.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';
import type { ForkInfo } from '../../../../sandbox-core/backends/types.ts';
import { sh } from '../../../helpers/sandbox-sh.ts';
import { mountTmpfs } from '../../../helpers/small-mounts.ts';

const availability = await runcBackend.forkSupport();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const MiB = 1024 * 1024;

describe.skipIf(!availability.ok)(`runc fork${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'rigor-runc-fork-test-'));
  const image = join(root, 'image');
  let parent: RuncSandbox;
  let info: ForkInfo;

  beforeAll(async () => {
    parent = (await runcBackend.create({ env: { FROM_SPEC: 'kept' } })) as RuncSandbox;
    await parent.writeFile('/workspace/before', 'written before the fork');
    // "installed": an executable copied into the workspace's bin (the root is read-only on runc)
    await sh(parent, 'mkdir -p /workspace/bin && cp /bin/busybox /workspace/bin/busybox && chmod 755 /workspace/bin/busybox');
    // 8 MiB logical, one 4 KiB block written
    await sh(parent, 'dd if=/dev/zero of=/workspace/sparse bs=1 count=0 seek=8388608 2>/dev/null && echo x | dd of=/workspace/sparse bs=4096 seek=5 conv=notrunc 2>/dev/null');
    info = await parent.fork!(image);
  });
  afterAll(async () => {
    await parent?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the workspace and a manifest into the directory, says how it copied, and counts allocated blocks, not logical size', () => {
    expect(readdirSync(root)).toEqual(['image']);
    expect(readdirSync(image).sort()).toEqual(['manifest.json', 'workspace']);
    // the workspace is a tmpfs: nothing can clone from it, and the fork does not claim it did
    expect(info.copy).toBe('copy');
    expect(info.forkMs).toBeGreaterThan(0);
    const sparse = statSync(join(image, 'workspace', 'sparse'));
    expect(sparse.size).toBe(8 * MiB);
    expect(sparse.blocks * 512).toBeLessThan(MiB);
    expect(info.bytes).toBeGreaterThan(8 * MiB);
    // the busybox binary (~1-2 MiB) and a few blocks: far under the sparse file's logical size
    expect(info.allocatedBytes).toBeLessThan(info.bytes - 4 * MiB);
  });

  it('starts two children holding what was written before the fork; their writes reach neither the parent, the sibling nor the image', async () => {
    const [a, b] = [await runcBackend.fromFork(image), await runcBackend.fromFork(image)];
    try {
      for (const child of [a, b]) {
        expect(await sh(child, 'cat /workspace/before; echo " $FROM_SPEC"')).toBe('written before the fork kept\n');
        expect(await sh(child, '/workspace/bin/busybox echo installed')).toBe('installed\n');
        // owned by the child's command user, as if it had written them itself
        expect(await sh(child, 'stat -c %u:%g /workspace /workspace/before && id -u')).toBe('1000:1000\n1000:1000\n1000\n');
        expect(child.phases.filled).toBeGreaterThan(0);
      }
      await a.writeFile('/workspace/only-a', 'a');
      await sh(b, 'echo b > /workspace/only-b && echo changed > /workspace/before');
      await sh(parent, 'echo p > /workspace/only-parent');
      expect(await sh(a, 'ls /workspace; cat /workspace/before')).toBe('before\nbin\nonly-a\nsparse\nwritten before the fork');
      expect(await sh(b, 'ls /workspace')).toBe('before\nbin\nonly-b\nsparse\n');
      expect(await sh(parent, 'ls /workspace; cat /workspace/before')).toBe('before\nbin\nonly-parent\nsparse\nwritten before the fork');
      expect(readdirSync(join(image, 'workspace')).sort()).toEqual(['before', 'bin', 'sparse']);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('refuses to fork into an existing directory or from a destroyed sandbox, leaving nothing behind', async () => {
    await expect(parent.fork!(image)).rejects.toThrow(`fork ${image}: already exists`);
    const gone = (await runcBackend.create()) as RuncSandbox;
    await gone.destroy();
    await expect(gone.fork!(join(root, 'from-destroyed'))).rejects.toThrow(/sandbox is destroyed/);
    expect(readdirSync(root)).toEqual(['image']);
  });

  it('removes its partial directory when the copy fails, and the parent runs on', async () => {
    // a full filesystem: a 1 MiB tmpfs cannot hold the busybox binary
    const small = mountTmpfs(1024);
    try {
      await expect(parent.fork!(join(small.path, 'image'))).rejects.toThrow(/nothing was written there: copying .*No space left on device/);
      expect(readdirSync(small.path)).toEqual([]);
      expect(await sh(parent, 'echo alive')).toBe('alive\n');
    } finally {
      small.remove();
    }
  });

  it('refuses a damaged image before starting anything', async () => {
    const damaged = join(root, 'damaged');
    cpSync(image, damaged, { recursive: true });
    writeFileSync(join(damaged, 'manifest.json'), JSON.stringify({ format: 'rigor-runc-fork', version: 2 }));
    await expect(runcBackend.fromFork(damaged)).rejects.toThrow(`${join(damaged, 'manifest.json')}: field version: `);
    rmSync(join(damaged, 'manifest.json'));
    await expect(runcBackend.fromFork(damaged)).rejects.toThrow(`fork image ${damaged}: no manifest.json`);
    expect(existsSync(join(damaged, 'workspace'))).toBe(true);
  });
});
