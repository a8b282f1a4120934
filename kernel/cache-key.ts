/**
 * The kernel build's cache key: everything that changes the bzImage, hashed.
 * Texts are hashed, not paths or modification times: a touched file or a
 * moved checkout reuses the build; any edit to a fragment, the series or a
 * patch (a comment too) builds again.
 */
import { createHash } from 'node:crypto';

/** Bumped whenever the build steps change (make targets, flags, layout), so old builds are not reused. */
export const KERNEL_BUILDER_VERSION = 1;

export interface KernelKeyInputs {
  /** The Debian package version of linux-source-6.1 ("6.1.192-2"). */
  sourceVersion: string;
  /** Fragment file names and texts, in the order they are merged. */
  fragments: ReadonlyArray<{ name: string; text: string }>;
  /** The text of patches/series. */
  series: string;
  /** Patch names (as the series lists them) and texts, in series order. */
  patches: ReadonlyArray<{ name: string; text: string }>;
  builderVersion: number;
}

/** sha256 (hex) of the inputs. */
export function kernelCacheKey(inputs: KernelKeyInputs): string {
  const canonical = JSON.stringify([
    inputs.builderVersion,
    inputs.sourceVersion,
    inputs.fragments.map(({ name, text }) => [name, text]),
    inputs.series,
    inputs.patches.map(({ name, text }) => [name, text]),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
