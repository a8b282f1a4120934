import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runcBackend } from '../../../sandbox-core/backends/runc.ts';
import { checkSearchable, STAGE_ROOT } from '../../../sandbox-core/backends/runc/rootfs.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

describe('the rootfs path the mapped root must walk', () => {
  it('refuses a directory on the way that others cannot search, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-runc-rootfs-test-'));
    try {
      mkdirSync(join(dir, 'rootfs'));
      // mkdtemp makes 0700: just like a build cache key directory
      await expect(checkSearchable(join(dir, 'rootfs'))).rejects.toThrow(`${dir} (mode 700) is not searchable`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!availability.ok)(`the staged rootfs${skipReason}`, () => {
  it('is a root-owned copy every uid can reach, outside the 0700 build cache', async () => {
    const rootfs = await runcBackend.rootfs();
    expect(rootfs.startsWith(`${STAGE_ROOT}/`)).toBe(true);
    await expect(checkSearchable(rootfs)).resolves.toBeUndefined();
    const agent = statSync(join(rootfs, 'sbin/rigor-agent'));
    expect(agent.uid).toBe(0);
    expect(agent.mode & 0o777).toBe(0o755);
  });
});
