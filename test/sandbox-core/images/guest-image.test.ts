/** The guest image built from the host's own kernel, modules, busybox and agent into a fresh cache, then reused. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../../base/which.ts';
import { buildGuestImage, defaultGuestKernel, type GuestImage } from '../../../sandbox-core/images/guest-image.ts';

const kernel = await defaultGuestKernel().catch((error: Error) => error.message);
const missing = typeof kernel === 'string' && !kernel.startsWith('/') ? kernel : !which('mksquashfs') ? 'mksquashfs not on PATH' : '';
const cacheRoot = mkdtempSync(join(tmpdir(), 'rigor-guest-image-'));
afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

describe.skipIf(missing !== '')(`guest image${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let image: GuestImage;
  beforeAll(async () => {
    image = await buildGuestImage({ cacheRoot });
  });

  it('lands in the cache under its key with a manifest naming every input', () => {
    expect(image.dir).toBe(join(cacheRoot, 'rigor', 'guest', image.manifest.key));
    expect(image.kernel).toBe(kernel);
    expect(image.manifest.kernel.version).toBe(basename(kernel as string).slice('vmlinuz-'.length));
    expect(image.manifest.busybox.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(image.manifest.agent.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(image.manifest.modules.mmio.base.map((path) => basename(path))).toEqual(expect.arrayContaining(['virtio_mmio.ko', 'virtio_blk.ko', 'virtio_console.ko']));
    expect(readdirSync(join(cacheRoot, 'rigor', 'guest')).filter((name) => name.startsWith('.build-'))).toEqual([]);
  });

  it('boots the uncompressed kernel where a decompressor is at hand', () => {
    if (image.boot.format === 'pvh-elf') {
      expect(image.boot.file).toMatch(/rigor\/kernel\/[0-9a-f]{64}\/vmlinux$/);
    } else {
      expect(image.boot.file).toBe(kernel);
      expect(image.boot.reason).toMatch(/booting .* as it is/);
    }
    if (which('lz4')) expect(image.boot.format).toBe('pvh-elf');
  });

  it('has an initramfs with /init, busybox, the agent, /dev/console and the modules in load order', () => {
    const cpio = readFileSync(image.initramfs);
    const names = execFileSync('cpio', ['-it', '--quiet'], { input: cpio, encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'bin/rigor-agent', 'bin/sh', 'dev/console', 'newroot']));
    const init = execFileSync('cpio', ['-i', '--quiet', '--to-stdout', 'init'], { input: cpio, encoding: 'utf8' });
    const mmio = image.manifest.modules.mmio.base.map((path) => basename(path)).join(' ');
    const net = image.manifest.modules.mmio.net.map((path) => basename(path));
    expect(net).toContain('virtio_net.ko');
    expect(net).not.toContain('virtio.ko'); // loaded with the base modules already
    expect(init).toContain(`mmio) modules="${mmio}" net_modules="${net.join(' ')}" ;;`);
    expect(init).toMatch(/^exec switch_root \/newroot /m);
    for (const module of [...mmio.split(' '), ...net]) expect(names).toContain(`lib/modules/${module}`);
  });

  it('has a read-only root with busybox, the agent and /etc, all owned by root', () => {
    const listing = execFileSync('unsquashfs', ['-lls', image.rootImage], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x root\/root .* squashfs-root\/sbin\/rigor-agent$/m);
    expect(listing).toMatch(/ squashfs-root\/bin\/busybox$/m);
    expect(listing).toMatch(/ squashfs-root\/etc\/passwd$/m);
    expect(listing).toMatch(/^d\S+ root\/root .* squashfs-root\/workspace$/m);
    expect(listing).not.toMatch(/^\S+ (?!root\/root)\S+\/\S+ /m);
  });

  it('is reused when nothing changed and rebuilt under another key when an input did', async () => {
    const again = await buildGuestImage({ cacheRoot });
    expect(again.dir).toBe(image.dir);
    expect(again.manifest.built_at).toBe(image.manifest.built_at);
    const gzip = await buildGuestImage({ cacheRoot, initramfsCompression: 'gzip' });
    expect(gzip.manifest.key).not.toBe(image.manifest.key);
    expect(gzip.initramfs.endsWith('.cpio.gz')).toBe(true);
    expect(gunzipSync(readFileSync(gzip.initramfs)).equals(readFileSync(image.initramfs))).toBe(true);
  });
});
