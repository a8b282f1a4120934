import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAgentPath } from '../../../sandbox-core/agent/build.ts';
import { buildBusyboxRootfs, DEFAULT_BUSYBOX, MOUNT_POINTS, readRootfsManifest } from '../../../sandbox-core/images/busybox-rootfs.ts';
import { isStaticElf } from '../../../sandbox-core/images/static-elf.ts';

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const haveBusybox = existsSync(DEFAULT_BUSYBOX) && (await isStaticElf(DEFAULT_BUSYBOX));

describe.skipIf(!haveBusybox)('buildBusyboxRootfs (needs busybox-static)', () => {
  let cacheRoot: string;
  beforeAll(async () => {
    cacheRoot = await mkdtemp(join(tmpdir(), 'rigor-rootfs-test-'));
  });
  afterAll(async () => {
    await rm(cacheRoot, { recursive: true, force: true });
  });

  it('lays out busybox with its applets, the agent, /etc and the mount points, and says what went in', async () => {
    const rootfs = await buildBusyboxRootfs({ cacheRoot });
    expect(rootfs).toBe(join(cacheRoot, 'rigor', 'rootfs', (await readRootfsManifest(rootfs)).key, 'rootfs'));
    expect(await readlink(join(rootfs, 'bin/sh'))).toBe('/bin/busybox');
    expect(await readlink(join(rootfs, 'sbin/ip'))).toBe('/bin/busybox');
    const agent = await stat(join(rootfs, 'sbin/rigor-agent'));
    expect(agent.mode & 0o111).toBe(0o111);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    expect(await readFile(join(rootfs, 'etc/group'), 'utf8')).toMatch(/^root:x:0:/);
    expect((await readFile(join(rootfs, 'etc/hostname'), 'utf8')).trim()).toBe('rigor');
    for (const point of MOUNT_POINTS) expect((await lstat(join(rootfs, point))).isDirectory(), point).toBe(true);
    // /usr is left empty for a host bind; nothing of busybox may hide under it
    expect(await readdir(join(rootfs, 'usr'))).toEqual([]);

    const manifest = await readRootfsManifest(rootfs);
    expect(manifest.busybox.sha256).toBe(await sha256(DEFAULT_BUSYBOX));
    expect(manifest.agent.sha256).toBe(await sha256(await nativeAgentPath()));
    expect(manifest.busybox.banner).toMatch(/^BusyBox v\d/);
    expect(manifest.busybox.applets).toBeGreaterThan(100);
  });

  it('reuses a built rootfs, and concurrent builders leave one directory and no temp dirs', async () => {
    const first = await buildBusyboxRootfs({ cacheRoot });
    const builtAt = (await readRootfsManifest(first)).built_at;
    const again = await Promise.all([1, 2, 3].map(() => buildBusyboxRootfs({ cacheRoot })));
    expect(new Set(again)).toEqual(new Set([first]));
    expect((await readRootfsManifest(first)).built_at).toBe(builtAt);
    expect(await readdir(dirname(dirname(first)))).toEqual([(await readRootfsManifest(first)).key]);
  });

  it('builds concurrently from empty into exactly one directory', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'rigor-rootfs-test-'));
    try {
      const paths = await Promise.all([1, 2, 3].map(() => buildBusyboxRootfs({ cacheRoot: fresh })));
      expect(new Set(paths).size).toBe(1);
      expect(await readdir(join(fresh, 'rigor', 'rootfs'))).toHaveLength(1);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses a busybox that needs a dynamic loader, naming the package to install', async () => {
    await expect(buildBusyboxRootfs({ cacheRoot, busyboxPath: '/usr/bin/env' })).rejects.toThrow(
      /busybox at \/usr\/bin\/env is not a static executable: install busybox-static/,
    );
    await expect(buildBusyboxRootfs({ cacheRoot, busyboxPath: '/nonexistent/busybox' })).rejects.toThrow(/busybox not found at \/nonexistent\/busybox/);
  });
});
