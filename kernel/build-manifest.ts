/**
 * What a finished kernel build leaves in <cache>/rigor/kernel-build/<key>/:
 * `vmlinuz-<release>` (the bzImage, named as Debian names its kernels so the
 * guest image reads the version from the name), `config-<release>` (the final
 * .config, beside it as in /boot) and manifest.json, written last. A
 * directory with a manifest is complete.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const KERNEL_BUILD_MANIFEST = 'manifest.json';

export interface KernelBuildManifest {
  builder: { name: 'kernel-build'; version: number };
  key: string;
  built_at: string;
  /** Debian's version of the linux-source package built from. */
  source_version: string;
  /** `make kernelrelease`: what `uname -r` says in the guest. */
  kernel_release: string;
  /** sha256 of the final .config. */
  config_sha256: string;
  /** Fragments merged on top of tinyconfig, in order. */
  fragments: Array<{ name: string; sha256: string }>;
  /** Patches applied, in series order. */
  patches: Array<{ name: string; sha256: string }>;
  build_seconds: number;
  /** The bzImage's file name in the build directory and its size. */
  image_file: string;
  image_bytes: number;
  config_file: string;
}

export function imageFileName(release: string): string {
  return `vmlinuz-${release}`;
}

export function configFileName(release: string): string {
  return `config-${release}`;
}

/** The manifest of the build `kernel` (a bzImage path) came out of, or undefined when it is not one of ours. */
export async function kernelBuildOf(kernel: string): Promise<KernelBuildManifest | undefined> {
  const text = await readFile(join(dirname(kernel), KERNEL_BUILD_MANIFEST), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const manifest = JSON.parse(text) as Partial<KernelBuildManifest>;
  return manifest.builder?.name === 'kernel-build' && manifest.image_file === basename(kernel) ? (manifest as KernelBuildManifest) : undefined;
}
