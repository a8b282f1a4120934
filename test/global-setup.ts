/**
 * Every test run gets its own TMPDIR, removed when the run ends: a test that
 * forgets to clean its temp dirs cannot leave them on the machine.
 *
 * The project's guest kernel, which the qemu backend boots by default, is
 * built here once (minutes when the cache lacks it, with progress) so that
 * test files running in parallel do not each start the same build. A host
 * that cannot build it is told why; its qemu tests then skip with that reason.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKernel, kernelBuildBlocker } from '../kernel/build.ts';

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-tests-'));
  // Like /tmp: sandboxes run commands as other users (65534) that must reach files here.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  const blocker = await kernelBuildBlocker();
  if (blocker) {
    process.stderr.write(`global setup: not building the guest kernel: ${blocker}\n`);
  } else {
    const build = await buildKernel({ progress: (line) => process.stderr.write(`global setup: ${line}\n`) });
    if (build.built) process.stderr.write(`global setup: guest kernel ${build.manifest.kernel_release} built in ${build.manifest.build_seconds} s\n`);
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
