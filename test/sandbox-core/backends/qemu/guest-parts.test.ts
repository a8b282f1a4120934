/** The pieces the guest image is built from: the cpio writer, module resolution, the kernel's ELF inside its bzImage. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../../../base/which.ts';
import { defaultGuestKernel } from '../../../../sandbox-core/images/guest-image.ts';
import { cpioNewc } from '../../../../sandbox-core/images/guest/cpio.ts';
import { moduleLoadOrder, moduleName, parseModuleIndex, readModule } from '../../../../sandbox-core/images/guest/kernel-modules.ts';
import { bzImagePayload, extractVmlinux, hasPvhNote } from '../../../../sandbox-core/images/guest/vmlinux.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-guest-parts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('cpioNewc', () => {
  const archive = cpioNewc([
    { kind: 'dir', path: 'bin' },
    { kind: 'file', path: '/bin/hello', data: Buffer.from('echo hi\n'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'hello' },
    { kind: 'dir', path: 'dev' },
    { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'odd', data: Buffer.from('12345') },
  ]);

  it('writes an archive cpio(1) lists with root ownership, types, modes and device numbers', () => {
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' }).trim().split('\n');
    expect(listing).toHaveLength(6);
    expect(listing[0]).toMatch(/^drwxr-xr-x\s+2 root\s+root\s+0 .* bin$/);
    expect(listing[1]).toMatch(/^-rwxr-xr-x\s+1 root\s+root\s+8 .* bin\/hello$/);
    expect(listing[2]).toMatch(/^lrwxrwxrwx\s+1 root\s+root\s+5 .* bin\/sh -> hello$/);
    expect(listing[4]).toMatch(/^crw-------\s+1 root\s+root\s+5,\s+1 .* dev\/console$/);
  });

  it('keeps file contents intact across 4-byte padding', () => {
    const out = execFileSync('cpio', ['-i', '--quiet', '--to-stdout', 'odd', 'bin/hello'], { input: archive, encoding: 'utf8' });
    expect(out).toBe('echo hi\n12345');
  });

  it('refuses a path that leaves the archive', () => {
    expect(() => cpioNewc([{ kind: 'dir', path: 'a/../../etc' }])).toThrow('cpio entry path: expected a relative path inside the archive, found "a/../../etc"');
  });
});

describe('kernel modules', () => {
  const index = parseModuleIndex(
    [
      'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_ring.ko:',
      'kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/fs/foo-bar.ko.xz: kernel/fs/needs-missing.ko',
    ].join('\n'),
    'kernel/fs/squashfs/squashfs.ko\n',
  );

  it('orders each module after its dependencies, once each, leaving out built-in ones', () => {
    expect(moduleLoadOrder(index, ['virtio_blk', 'virtio_console', 'squashfs'], '6.1-test')).toEqual([
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/block/virtio_blk.ko',
      'kernel/drivers/char/virtio_console.ko',
    ]);
  });

  it('treats - and _ alike and names a missing module with what needed it', () => {
    expect(moduleName('kernel/fs/foo-bar.ko.xz')).toBe('foo_bar');
    expect(() => moduleLoadOrder(index, ['foo-bar'], '6.1-test')).toThrow(
      'kernel 6.1-test: module needs_missing (needed by foo_bar) is neither in modules.dep nor built in; the guest cannot boot without it',
    );
  });

  it.skipIf(!which('xz'))('reads compressed modules as plain .ko bytes', async () => {
    const plain = join(scratch, 'm.ko');
    writeFileSync(plain, 'ELF-ish module bytes');
    execFileSync('xz', ['-k', plain]);
    expect((await readModule(`${plain}.xz`)).toString()).toBe('ELF-ish module bytes');
  });
});

const kernel = await defaultGuestKernel().catch(() => null);

describe('vmlinux from a bzImage', () => {
  it('says why a file is not a bzImage or an ELF has no PVH note', async () => {
    expect(bzImagePayload(Buffer.alloc(4096))).toEqual({ reason: 'not a bzImage (no HdrS boot header)' });
    expect(await extractVmlinux(Buffer.alloc(4096))).toEqual({ ok: false, reason: 'not a bzImage (no HdrS boot header)' });
    expect(hasPvhNote(readFileSync('/bin/busybox'))).toBe(false);
  });

  it.skipIf(!kernel)(`extracts the host's guest kernel to an ELF with a PVH entry of the size its header states${kernel ? '' : ' (skipped: no guest kernel)'}`, async () => {
    const image = readFileSync(kernel!);
    const payload = bzImagePayload(image);
    expect('size' in payload).toBe(true);
    const result = await extractVmlinux(image);
    if (!result.ok) {
      // only a missing decompressor may excuse it: the backend then boots the bzImage
      expect(result.reason).toMatch(/not on PATH/);
      return;
    }
    expect(result.elf.length).toBe((payload as { size: number }).size);
    expect(hasPvhNote(result.elf)).toBe(true);
    // ELF64, little-endian, ET_EXEC, EM_X86_64
    expect([result.elf.readUInt32BE(0), result.elf[4], result.elf[5], result.elf.readUInt16LE(16), result.elf.readUInt16LE(18)]).toEqual([0x7f454c46, 2, 1, 2, 0x3e]);
  });
});
