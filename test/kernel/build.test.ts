/**
 * The real kernel build and a real boot: built from linux-source-6.1 into the
 * user's cache (minutes the first time; CI may keep the cache between runs,
 * and then this reuses it), then booted by the qemu backend (TCG here) to an
 * agent that runs a command. Also: an interrupted build leaves nothing behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernel, type KernelBuild } from '../../kernel/build.ts';
import { verifyKernelConfig } from '../../kernel/config-check.ts';
import { mergeFragments, readFragments } from '../../kernel/fragments.ts';
import { CONFIG_DIR } from '../../kernel/paths.ts';
import { debianPackageVersion, SOURCE_PACKAGE, SOURCE_TARBALL } from '../../kernel/source.ts';
import { which } from '../../base/which.ts';
import { QemuBackend } from '../../sandbox-core/backends/qemu.ts';
import type { QemuSandbox } from '../../sandbox-core/backends/qemu/sandbox.ts';
import { buildGuestImage } from '../../sandbox-core/images/guest-image.ts';
import { extractVmlinux } from '../../sandbox-core/images/guest/vmlinux.ts';

const BUILD_TIMEOUT_MS = 30 * 60_000;
const tools = ['make', 'gcc', 'flex', 'bison', 'bc', 'patch'].filter((tool) => !which(tool));
const missing = !existsSync(SOURCE_TARBALL)
  ? `${SOURCE_TARBALL} absent (apt-get install ${SOURCE_PACKAGE})`
  : tools.length > 0
    ? `${tools.join(', ')} not on PATH`
    : !existsSync('/usr/include/gelf.h')
      ? 'libelf-dev absent'
      : '';

describe.skipIf(missing !== '')(`the project's guest kernel${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let build: KernelBuild;
  const progress: string[] = [];
  beforeAll(async () => {
    build = await buildKernel({ progress: (line) => progress.push(line) });
  }, BUILD_TIMEOUT_MS);

  it('lands in the cache under its key with the image, the final .config and a manifest naming its inputs', async () => {
    const { manifest } = build;
    expect(basename(build.dir)).toBe(manifest.key);
    expect(build.dir).toMatch(/\/rigor\/kernel-build\/[0-9a-f]{64}$/);
    expect(manifest.source_version).toBe(await debianPackageVersion(SOURCE_PACKAGE));
    expect(manifest.kernel_release).toMatch(/^6\.1\.\d+-rigor$/);
    expect(basename(build.image)).toBe(`vmlinuz-${manifest.kernel_release}`);
    expect(statSync(build.image).size).toBe(manifest.image_bytes);
    const config = readFileSync(build.config, 'utf8');
    expect(createHash('sha256').update(config).digest('hex')).toBe(manifest.config_sha256);
    expect(manifest.fragments.map((fragment) => fragment.name)).toEqual(readdirSync(CONFIG_DIR).filter((name) => name.endsWith('.config')).sort());
    verifyKernelConfig(mergeFragments(await readFragments(CONFIG_DIR)), config, build.config);
    expect(config).toMatch(/^# CONFIG_MODULES is not set$/m);
    if (build.built) expect(progress.some((line) => /files compiled|make -j\d+ bzImage/.test(line))).toBe(true);
  });

  it('does nothing when built again with nothing changed', async () => {
    const lines: string[] = [];
    const again = await buildKernel({ progress: (line) => lines.push(line) });
    // Nothing compiled: no make line in the progress, and the manifest is the first build's.
    expect(lines.some((line) => /files compiled|make -j\d+ bzImage/.test(line))).toBe(false);
    expect(again).toMatchObject({ dir: build.dir, built: false });
    expect(again.manifest.built_at).toBe(build.manifest.built_at);
    expect(lines).toEqual([]);
  });

  it('carries the PVH entry the guest image boots it by, unpacked with lz4', async () => {
    const vmlinux = await extractVmlinux(readFileSync(build.image));
    if (which('lz4')) expect(vmlinux).toMatchObject({ ok: true, compression: 'lz4' });
    else expect(vmlinux).toEqual({ ok: false, reason: 'lz4 not on PATH to decompress the lz4 payload' });
  });

  describe('booted by the qemu backend', () => {
    let sandbox: QemuSandbox | undefined;
    afterAll(async () => {
      await sandbox?.destroy();
    });

    it('reaches the agent, which runs a command', async (context) => {
      const qemu = new QemuBackend({ image: { kernel: build.image } });
      const availability = await qemu.available();
      if (!availability.ok) context.skip(availability.reason);
      const image = await buildGuestImage({ kernel: build.image });
      expect(image.manifest.modules).toEqual({ mmio: { base: [], net: [] }, pci: { base: [], net: [] } });
      expect(image.manifest.kernel.build?.key).toBe(build.manifest.key);
      if (which('lz4')) expect(image.boot.format).toBe('pvh-elf');
      sandbox = (await qemu.create({})) as QemuSandbox;
      const hello = await sandbox.exec({ argv: ['echo', 'hi'] });
      expect(hello).toMatchObject({ exitCode: 0 });
      expect(hello.stdout.toString()).toBe('hi\n');
      const release = await sandbox.exec({ argv: ['uname', '-r'] });
      expect(release.stdout.toString()).toBe(`${build.manifest.kernel_release}\n`);
      expect(sandbox.bootStages.map((stage) => stage.name)).toContain('agent_start');
    });
  });
});

describe.skipIf(missing !== '')(`an interrupted kernel build${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'rigor-kernel-abort-'));
  afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

  it('stops, removes its temp dir, and sweeps one a killed build left', async () => {
    const parent = join(cacheRoot, 'rigor', 'kernel-build');
    // a build whose process was SIGKILLed: pid 2^22 + 1 is above Linux's pid_max, so never alive
    const stale = join(parent, `rigor-kernel-${2 ** 22 + 1}-AbCdEf`);
    mkdirSync(join(stale, 'linux-source-6.1'), { recursive: true });
    const controller = new AbortController();
    const building = buildKernel({
      cacheRoot,
      signal: controller.signal,
      progress: (line) => {
        // stop while tar is extracting the source
        if (line.includes('extracting')) setTimeout(() => controller.abort(new Error('interrupted by the test')), 300);
      },
    });
    await expect(building).rejects.toThrow('interrupted by the test');
    expect(readdirSync(parent)).toEqual([]);
  });
});
