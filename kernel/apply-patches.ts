/**
 * Applying the patch series to an extracted kernel source: each patch is
 * first tried with `--dry-run`, so one that does not apply fails alone and
 * names itself, before any of its hunks touched the tree.
 */
import { execa } from 'execa';
import { InputError } from '../base/errors.ts';
import type { Patch } from './series.ts';

const PATCH_ARGS = ['-p1', '--batch', '--forward'];

/** Applies `patches` in order inside `sourceDir`; throws naming the first that does not apply, its series line and patch's own words. */
export async function applyPatches(sourceDir: string, patches: readonly Patch[], options: { signal?: AbortSignal } = {}): Promise<void> {
  for (const patch of patches) {
    for (const dryRun of [true, false]) {
      const result = await execa('patch', [...PATCH_ARGS, ...(dryRun ? ['--dry-run'] : []), '-i', patch.path], {
        cwd: sourceDir,
        reject: false,
        stdin: 'ignore',
        all: true,
        cancelSignal: options.signal,
      });
      if (result.isCanceled) throw options.signal?.reason instanceof Error ? options.signal.reason : new Error('patching cancelled');
      if ((result as { code?: string }).code === 'ENOENT') throw new Error('patch not found on PATH (apt-get install -y patch)');
      if (result.exitCode !== 0) {
        const said = String(result.all ?? '').trim().split('\n').slice(-8).join('\n');
        throw new InputError(`patch ${patch.name} (${patch.file}:${patch.line}) does not apply${dryRun ? '' : ' (after its dry run passed)'}:\n${said}`);
      }
    }
  }
}
