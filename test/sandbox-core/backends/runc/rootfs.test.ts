import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { STAGE_ROOT } from '../../../../sandbox-core/backends/runc/rootfs.ts';
import { checkReachable } from '../../../../sandbox-core/isolation/reachable.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

describe.skipIf(!availability.ok)(`the staged rootfs${skipReason}`, () => {
  it('is a root-owned copy every uid can reach, outside the 0700 build cache', async () => {
    const rootfs = await runcBackend.rootfs();
    expect(rootfs.startsWith(`${STAGE_ROOT}/`)).toBe(true);
    await expect(checkReachable(join(rootfs, 'sbin'), 'rootfs')).resolves.toBeUndefined();
    const agent = statSync(join(rootfs, 'sbin/rigor-agent'));
    expect(agent.uid).toBe(0);
    expect(agent.mode & 0o777).toBe(0o755);
  });
});
