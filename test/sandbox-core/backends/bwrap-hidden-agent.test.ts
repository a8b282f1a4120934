/**
 * An agent cached where bwrap's unprivileged uid cannot reach it (under a
 * 0700 directory of the host's /tmp, as root's ~/.cache is behind /root) is
 * staged and bound in. Its own file, so the agent command is resolved afresh.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';

const cache = mkdtempSync(join('/tmp', 'rigor-hidden-agent-test-'));
const original = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = cache;
afterAll(() => {
  process.env.XDG_CACHE_HOME = original;
  rmSync(cache, { recursive: true, force: true });
});

const bwrapReady = await bwrapBackend.available();

it.skipIf(!bwrapReady.ok)('starts an agent whose binary lives under the host /tmp', async () => {
  const sandbox = await bwrapBackend.create();
  try {
    const result = await sandbox.exec({ argv: ['sh', '-c', 'cat /proc/$PPID/cmdline; echo; ls /tmp | wc -l'] });
    expect(result.stdout.toString()).toMatch(/^\/\.rigor-agent\/rigor-agent\0--exec-user\x001000:1000\0\n0\n$/);
  } finally {
    await sandbox.destroy();
  }
});
