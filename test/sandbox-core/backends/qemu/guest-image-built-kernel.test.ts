/**
 * A guest image for a kernel with everything built in (the project's kernel,
 * kernel/build.ts): no /lib/modules tree, nothing for /init to load. Stood in
 * for here by the host's kernel file renamed and given a kernel-build
 * manifest, so this runs without the minutes a real build takes
 * (test/kernel/build.test.ts builds and boots the real one).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelBuildManifest } from '../../../../kernel/build-manifest.ts';
import { which } from '../../../../base/which.ts';
import { buildGuestImage, defaultGuestKernel, type GuestImage } from '../../../../sandbox-core/images/guest-image.ts';

const hostKernel = await defaultGuestKernel().catch((error: Error) => error.message);
const missing = !hostKernel.startsWith('/') ? hostKernel : !which('mksquashfs') ? 'mksquashfs not on PATH' : '';
const scratch = mkdtempSync(join(tmpdir(), 'rigor-guest-image-built-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const RELEASE = '6.1.0-fixture-rigor';

/** A build dir as kernel/build.ts leaves it: vmlinuz-<release> beside its manifest. */
function fakeBuild(dir: string, release: string, { manifestRelease = release, key = 'f'.repeat(64) } = {}): string {
  mkdirSync(dir, { recursive: true });
  const image = join(dir, `vmlinuz-${release}`);
  copyFileSync(hostKernel, image);
  const manifest: KernelBuildManifest = {
    builder: { name: 'kernel-build', version: 1 },
    key,
    built_at: '2026-01-01T00:00:00.000Z',
    source_version: '6.1.192-2',
    kernel_release: manifestRelease,
    config_sha256: 'c'.repeat(64),
    fragments: [{ name: 'base.config', sha256: 'b'.repeat(64) }],
    patches: [{ name: '0001-x.patch', sha256: 'a'.repeat(64) }],
    build_seconds: 200,
    image_file: `vmlinuz-${release}`,
    image_bytes: 1,
    config_file: `config-${release}`,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return image;
}

describe.skipIf(missing !== '')(`guest image of a kernel with no modules${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const cacheRoot = join(scratch, 'cache');
  /** No /lib/modules/<version> anywhere: the image must not look for one. */
  const modulesRoot = join(scratch, 'no-modules');
  let kernel: string;
  let image: GuestImage;
  beforeAll(async () => {
    mkdirSync(modulesRoot);
    kernel = fakeBuild(join(scratch, 'build'), RELEASE);
    image = await buildGuestImage({ cacheRoot, kernel, modulesRoot });
  });

  it('takes the version from the file name and the build facts from its manifest, and loads no modules', () => {
    expect(image.manifest.kernel).toMatchObject({ path: kernel, version: RELEASE });
    expect(image.manifest.kernel.build).toEqual({ key: 'f'.repeat(64), source_version: '6.1.192-2', kernel_release: RELEASE, config_sha256: 'c'.repeat(64), patches: [{ name: '0001-x.patch', sha256: 'a'.repeat(64) }] });
    expect(image.manifest.modules).toEqual({ mmio: { base: [], net: [] }, pci: { base: [], net: [] } });
  });

  it('has an /init that loads nothing on either bus and an initramfs with no module files', () => {
    const cpio = readFileSync(image.initramfs);
    const names = execFileSync('cpio', ['-it', '--quiet'], { input: cpio, encoding: 'utf8' }).trim().split('\n');
    expect(names.filter((name) => name.startsWith('lib/modules/'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'bin/rigor-agent', 'dev/console']));
    const init = execFileSync('cpio', ['-i', '--quiet', '--to-stdout', 'init'], { input: cpio, encoding: 'utf8' });
    expect(init).toContain('mmio) modules="" net_modules="" ;;');
    expect(init).toContain('pci) modules="" net_modules="" ;;');
  });

  it('names the right build when another build made the same bzImage', async () => {
    const twin = fakeBuild(join(scratch, 'twin'), RELEASE, { key: 'e'.repeat(64) });
    const other = await buildGuestImage({ cacheRoot, kernel: twin, modulesRoot });
    expect(other.dir).not.toBe(image.dir);
    expect(other.manifest.kernel.build?.key).toBe('e'.repeat(64));
    expect((await buildGuestImage({ cacheRoot, kernel, modulesRoot })).manifest.kernel.build?.key).toBe('f'.repeat(64));
  });

  it('still needs the modules tree for a kernel without a build manifest', async () => {
    const plain = join(scratch, 'plain');
    mkdirSync(plain);
    copyFileSync(hostKernel, join(plain, `vmlinuz-${RELEASE}`));
    await expect(buildGuestImage({ cacheRoot, kernel: join(plain, `vmlinuz-${RELEASE}`), modulesRoot })).rejects.toThrow(`kernel ${RELEASE}: cannot read ${join(modulesRoot, RELEASE, 'modules.dep')}`);
  });

  it('refuses a kernel whose name and manifest disagree on its release', async () => {
    const odd = fakeBuild(join(scratch, 'odd'), RELEASE, { manifestRelease: '6.1.0-other-rigor' });
    await expect(buildGuestImage({ cacheRoot, kernel: odd, modulesRoot })).rejects.toThrow(`its build manifest says release 6.1.0-other-rigor, its name says ${RELEASE}`);
  });
});
