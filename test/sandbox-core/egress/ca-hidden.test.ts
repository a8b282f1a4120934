/** The interception CA's private key cannot be read from inside a bwrap sandbox (which sees only the system's directories), a gvisor sandbox (the busybox rootfs) or a qemu guest. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { gvisorBackend } from '../../../sandbox-core/backends/gvisor.ts';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { defaultCaDir, loadOrCreateCa } from '../../../sandbox-core/proxy/ca.ts';

for (const backend of [bwrapBackend, gvisorBackend]) {
  const available = await backend.available();
  // Under the repository: a world-readable place, which a sandbox that bound the host's root would show.
  const cacheHome = join(process.cwd(), '.cache', `ca-hidden-${backend.name}-${process.pid}`);

  describe.skipIf(!available.ok)(`the CA key inside a ${backend.name} sandbox${available.ok ? '' : ` (skipped: ${!available.ok && available.reason})`}`, () => {
    const previous = process.env.XDG_CACHE_HOME;
    let sandbox: Sandbox | undefined;
    afterAll(async () => {
      await sandbox?.destroy();
      if (previous === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = previous;
      rmSync(cacheHome, { recursive: true, force: true });
    });

    it('is not there: neither the CA directory nor the repository holding it exists inside', async () => {
      mkdirSync(cacheHome, { recursive: true });
      process.env.XDG_CACHE_HOME = cacheHome;
      const ca = await loadOrCreateCa(defaultCaDir());
      expect(readFileSync(join(ca.dir, 'ca.pem'), 'utf8')).toContain('PRIVATE KEY');
      sandbox = await backend.create();
      const run = (script: string) => sandbox!.exec({ argv: ['sh', '-c', script] });
      const key = await run(`cat ${join(ca.dir, 'ca.pem')}`);
      expect(key.exitCode).not.toBe(0);
      expect(key.stdout.toString()).not.toContain('PRIVATE KEY');
      for (const path of [ca.dir, cacheHome, process.cwd()]) expect((await run(`test -e ${path}`)).exitCode, `${path} exists inside`).not.toBe(0);
    });
  });
}

const qemu = await qemuBackend.available();

describe.skipIf(!qemu.ok)(`the CA key inside a qemu guest with egress${qemu.ok ? '' : ` (skipped: ${!qemu.ok && qemu.reason})`}`, () => {
  let sandbox: Sandbox | undefined;
  let server: Server | undefined;
  afterAll(async () => {
    await sandbox?.destroy();
    server?.close();
  });

  it('is nowhere in the guest: no host path is shared, and no file of its root holds a private key', async () => {
    const ca = await loadOrCreateCa(defaultCaDir());
    // The egress socket is the one host file a guest with egress is joined to; it carries bytes, not files.
    const scratch = mkdtempSync(join(tmpdir(), 'rigor-ca-hidden-'));
    chmodSync(scratch, 0o711);
    server = createServer((connection) => connection.destroy());
    await new Promise<void>((resolve) => server!.listen({ path: join(scratch, 'proxy.sock'), writableAll: true }, resolve));
    sandbox = await qemuBackend.create({ egress: { proxySocket: join(scratch, 'proxy.sock') } });
    const run = (script: string) => sandbox!.exec({ argv: ['sh', '-c', script] });
    const key = await run(`cat ${join(ca.dir, 'ca.pem')}`);
    expect(key.exitCode).not.toBe(0);
    // No filesystem shared with the host (9p, virtiofs, nfs): only the guest's own images and memory.
    const mounts = await run("cut -d' ' -f3 /proc/mounts | sort -u");
    expect(mounts.stdout.toString().trim().split('\n').filter((type) => !['squashfs', 'tmpfs', 'devtmpfs', 'proc', 'sysfs', 'rootfs', 'devpts'].includes(type))).toEqual([]);
    // Keys are small files; grepping the 2 MB binaries too costs a minute under TCG.
    const found = await run("find / -xdev -type f -size -64k -exec grep -l 'PRIVATE KEY' {} + 2>/dev/null; true");
    expect(found.stdout.toString()).toBe('');
  }, 120_000);
});
