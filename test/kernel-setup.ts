/**
 * The project's guest kernel, which the qemu backend boots by default, is
 * built once for the integration project (minutes when the cache lacks it,
 * with progress) so that test files running in parallel do not each start
 * the same build. A host that cannot build it is told why; its qemu tests
 * then skip with that reason.
 */
import { buildKernel, kernelBuildBlocker } from '../kernel/build.ts';

export default async function setup(): Promise<void> {
  const blocker = await kernelBuildBlocker();
  if (blocker) {
    process.stderr.write(`global setup: not building the guest kernel: ${blocker}\n`);
    return;
  }
  const build = await buildKernel({ progress: (line) => process.stderr.write(`global setup: ${line}\n`) });
  if (build.built) process.stderr.write(`global setup: guest kernel ${build.manifest.kernel_release} built in ${build.manifest.build_seconds} s\n`);
}
