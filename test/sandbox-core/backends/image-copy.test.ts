/**
 * Fork images' copies and sizes on this host's real filesystems: allocated blocks counted, not logical size
 * (a sparse file); a copy keeps holes; a reflink is claimed only where cp --reflink=always itself succeeds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyForImage, copyKindFor, diskUsage, reflinkWorksIn } from '../../../sandbox-core/backends/image-copy.ts';

const MiB = 1024 * 1024;
const roots = ['/dev/shm', tmpdir()].map((at) => mkdtempSync(join(at, 'rigor-image-copy-test-')));

/** 64 MiB logical with 4 KiB written in its middle. */
function sparseFile(path: string): void {
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 32 * MiB);
  writeSync(fd, Buffer.alloc(1), 0, 1, 64 * MiB - 1);
  closeSync(fd);
}

describe('image copies', () => {
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it.each(roots)('counts a sparse file by its allocated blocks, and a hard-linked inode once (%s)', async (root) => {
    const dir = join(root, 'usage');
    mkdirSync(dir);
    sparseFile(join(dir, 'sparse'));
    linkSync(join(dir, 'sparse'), join(dir, 'again'));
    const usage = await diskUsage(dir);
    expect(usage.bytes).toBe(64 * MiB);
    expect(usage.allocatedBytes).toBeGreaterThan(0);
    expect(usage.allocatedBytes).toBeLessThan(MiB);
    expect(usage.allocatedBytes).toBe(statSync(join(dir, 'sparse')).blocks * 512 + statSync(dir).blocks * 512);
  });

  it.each(roots)('claims a reflink only where cp --reflink=always succeeds (%s)', async (root) => {
    const probe = join(root, 'probe');
    sparseFile(probe);
    const cp = spawnSync('cp', ['--reflink=always', probe, `${probe}.clone`]);
    expect(await reflinkWorksIn(root)).toBe(cp.status === 0);
    expect(await copyKindFor(probe, join(root, 'x'))).toBe(cp.status === 0 ? 'reflink' : 'copy');
  });

  it('copies across filesystems as a copy, keeping holes: a file and a tree', async () => {
    const [shm, disk] = roots as [string, string];
    sparseFile(join(shm, 'ram'));
    expect(await copyForImage(join(shm, 'ram'), join(disk, 'ram'))).toBe('copy');
    const copied = statSync(join(disk, 'ram'));
    expect(copied.size).toBe(64 * MiB);
    expect(copied.blocks * 512).toBeLessThan(MiB);
    mkdirSync(join(shm, 'tree'));
    sparseFile(join(shm, 'tree', 'inner'));
    expect(await copyForImage(join(shm, 'tree'), join(disk, 'tree'), { tree: true })).toBe('copy');
    expect((await diskUsage(join(disk, 'tree'))).bytes).toBe(64 * MiB);
    expect(execFileSync('cmp', [join(shm, 'tree', 'inner'), join(disk, 'tree', 'inner')]).length).toBe(0);
  });

  it('names both paths and cp\'s reason when a copy fails', async () => {
    await expect(copyForImage(join(roots[0]!, 'missing'), join(roots[1]!, 'never'))).rejects.toThrow(/^copying .*missing to .*never: ENOENT/);
  });
});
