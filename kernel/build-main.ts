/**
 * `npx tsx kernel/build-main.ts` (mise run kernel:build): build the guest
 * kernel, or find it in the cache, and print where it is and what it is.
 * Ctrl-C stops make and removes the build's temp dir.
 */
import { InputError } from '../base/errors.ts';
import { buildKernel } from './build.ts';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted by SIGINT')));
process.once('SIGTERM', () => controller.abort(new Error('interrupted by SIGTERM')));

try {
  const build = await buildKernel({ signal: controller.signal });
  const { manifest } = build;
  const patches = manifest.patches.length === 0 ? 'none' : manifest.patches.map((patch) => patch.name).join(', ');
  process.stdout.write(
    [
      build.dir,
      `  kernel      ${manifest.kernel_release} from linux-source-6.1 ${manifest.source_version}${build.built ? `, built in ${manifest.build_seconds} s` : ', from the cache'}`,
      `  image       ${build.image} (${manifest.image_bytes} bytes)`,
      `  config      ${build.config} (sha256 ${manifest.config_sha256.slice(0, 16)}…)`,
      `  fragments   ${manifest.fragments.map((fragment) => fragment.name).join(', ')}`,
      `  patches     ${patches}`,
      '',
    ].join('\n'),
  );
} catch (error) {
  process.stderr.write(`kernel build: ${(error as Error).message}\n`);
  process.exitCode = controller.signal.aborted ? 130 : error instanceof InputError ? 2 : 1;
}
