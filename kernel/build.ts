/**
 * buildKernel(): the project's guest kernel from Debian's linux-source-6.1,
 * `make tinyconfig` plus the fragments in kernel/config, the patch series in
 * patches/ applied first. Cached in <cache>/rigor/kernel-build/<key>/ (key:
 * kernelCacheKey), so a second build with nothing changed returns at once.
 *
 * A build runs in a temp dir beside the cache entry, named
 * rigor-kernel-<pid>-XXXXXX: removed when the build ends (either way), by an
 * exit hook when the process exits during it, and, when the process was
 * killed outright, by the next build (sandbox-core/cleanup.ts sweeps dirs
 * whose owner is dead). The result appears by renaming a complete directory
 * into place.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { defaultCacheRoot, pathExists } from '../base/cache.ts';
import { which } from '../base/which.ts';
import { sweepStaleTempDirs } from '../base/temp-dirs.ts';
import { applyPatches } from './apply-patches.ts';
import { configFileName, imageFileName, KERNEL_BUILD_MANIFEST, type KernelBuildManifest } from './build-manifest.ts';
import { KERNEL_BUILDER_VERSION, kernelCacheKey } from './cache-key.ts';
import { verifyKernelConfig } from './config-check.ts';
import { mergeFragments, readFragments } from './fragments.ts';
import { CONFIG_DIR, PATCHES_DIR } from './paths.ts';
import { buildProgress } from './progress.ts';
import { runStep, signalGroup } from './run-step.ts';
import { readSeries } from './series.ts';
import { debianPackageVersion, SOURCE_PACKAGE, SOURCE_TARBALL } from './source.ts';

/** 64-bit from the first make on: plain `make tinyconfig` on x86 is 32-bit. */
const MAKE_ARCH = 'ARCH=x86_64';
/** Fixed so two builds of the same inputs embed the same version string (uname -v). */
const REPRODUCIBLE_ENV = { KBUILD_BUILD_TIMESTAMP: '1970-01-01 00:00:00 UTC', KBUILD_BUILD_USER: 'rigor', KBUILD_BUILD_HOST: 'rigor', KBUILD_BUILD_VERSION: '1' };
/** Tools the build runs, and the Debian package each comes from. */
const TOOLS: Record<string, string> = { make: 'make', gcc: 'gcc', flex: 'flex', bison: 'bison', bc: 'bc', tar: 'tar', xz: 'xz-utils', patch: 'patch' };
/** objtool (x86-64 builds) links libelf. */
const LIBELF_HEADER = '/usr/include/gelf.h';

export interface KernelBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheRoot?: string;
  /** Default /usr/src/linux-source-6.1.tar.xz. */
  sourceTarball?: string;
  /** Default the installed version of linux-source-6.1 (dpkg-query). */
  sourceVersion?: string;
  /** Default kernel/config. */
  configDir?: string;
  /** Default patches/ (its `series` file). */
  patchesDir?: string;
  /** make -j; default the number of CPUs. */
  jobs?: number;
  /** Stops the build (make is sent SIGTERM) and removes its temp dir. */
  signal?: AbortSignal;
  /** Where progress lines go; default stderr. */
  progress?: (line: string) => void;
}

export interface KernelBuild {
  dir: string;
  /** The bzImage, `vmlinuz-<release>`. */
  image: string;
  /** The final .config, `config-<release>`. */
  config: string;
  manifest: KernelBuildManifest;
  /** False when the cache already had it. */
  built: boolean;
}

/** The kernel for these inputs: from the cache, or built into it now (minutes). */
export async function buildKernel(options: KernelBuildOptions = {}): Promise<KernelBuild> {
  const started = performance.now();
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const configDir = options.configDir ?? CONFIG_DIR;
  const tarball = options.sourceTarball ?? SOURCE_TARBALL;
  const write = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));

  const [sourceVersion, fragments, series] = await Promise.all([
    options.sourceVersion ?? debianPackageVersion(SOURCE_PACKAGE),
    readFragments(configDir),
    readSeries(options.patchesDir ?? PATCHES_DIR),
  ]);
  const asked = mergeFragments(fragments);
  const key = kernelCacheKey({
    sourceVersion,
    fragments: fragments.map((fragment) => ({ name: basename(fragment.file), text: fragment.text })),
    series: series.text,
    patches: series.patches.map((patch) => ({ name: patch.name, text: patch.text })),
    builderVersion: KERNEL_BUILDER_VERSION,
  });
  const parent = join(cacheRoot, 'rigor', 'kernel-build');
  const target = join(parent, key);
  const cached = await readBuild(target, false);
  if (cached) return cached;

  await checkTools(tarball);
  await mkdir(parent, { recursive: true });
  sweepStaleTempDirs(parent);
  const temp = await mkdtemp(join(parent, `rigor-kernel-${process.pid}-`));
  let running: number | undefined;
  // process.exit() during a build (a second Ctrl-C in the runner): stop make, remove the tree
  const onExit = (): void => {
    // the step's whole group: make and the compilers it started
    if (running !== undefined) signalGroup(running);
    rmSync(temp, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  const progress = buildProgress(write);
  try {
    const step = (command: string, args: string[], cwd: string, onLine?: (line: string) => void): Promise<void> =>
      runStep(command, args, { cwd, env: REPRODUCIBLE_ENV, signal: options.signal, onLine, onSpawn: (pid) => (running = pid) });

    progress.stage(`building ${key.slice(0, 16)} from ${SOURCE_PACKAGE} ${sourceVersion}: extracting ${tarball}`);
    await step('tar', ['-xf', tarball, '-C', temp], temp);
    const src = await sourceTree(temp, tarball);
    progress.stage(series.patches.length === 0 ? `no patches in ${series.file}` : `applying ${series.patches.length} patches from ${series.file}`);
    await applyPatches(src, series.patches, { signal: options.signal });
    progress.stage(`make tinyconfig, then ${fragments.length} fragments from ${configDir}`);
    await step('make', [MAKE_ARCH, 'tinyconfig'], src);
    await step('scripts/kconfig/merge_config.sh', ['-m', '.config', ...fragments.map((fragment) => fragment.file)], src);
    await step('make', [MAKE_ARCH, 'olddefconfig'], src);
    const configText = await readFile(join(src, '.config'), 'utf8');
    verifyKernelConfig(asked, configText, 'the final .config');
    const jobs = options.jobs ?? availableParallelism();
    progress.stage(`make -j${jobs} bzImage`);
    await step('make', [MAKE_ARCH, `-j${jobs}`, 'bzImage'], src, (line) => progress.makeLine(line));
    const release = await kernelRelease(src, options.signal);

    const out = join(temp, 'out');
    await mkdir(out);
    await copyFile(join(src, 'arch/x86/boot/bzImage'), join(out, imageFileName(release)));
    await writeFile(join(out, configFileName(release)), configText);
    const manifest: KernelBuildManifest = {
      builder: { name: 'kernel-build', version: KERNEL_BUILDER_VERSION },
      key,
      built_at: new Date().toISOString(),
      source_version: sourceVersion,
      kernel_release: release,
      config_sha256: sha256(configText),
      fragments: fragments.map((fragment) => ({ name: basename(fragment.file), sha256: sha256(fragment.text) })),
      patches: series.patches.map((patch) => ({ name: patch.name, sha256: sha256(patch.text) })),
      build_seconds: Math.round((performance.now() - started) / 100) / 10,
      image_file: imageFileName(release),
      image_bytes: (await stat(join(out, imageFileName(release)))).size,
      config_file: configFileName(release),
    };
    // written last: a build dir holding a manifest is complete
    await writeFile(join(out, KERNEL_BUILD_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(out, target);
    } catch (error) {
      // another process finished the same build first: theirs is identical
      const code = (error as NodeJS.ErrnoException).code;
      if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && (await readBuild(target, false)))) throw error;
    }
    progress.stage(`done: ${progress.compiled} files compiled, ${manifest.image_file} ${(manifest.image_bytes / 1e6).toFixed(2)} MB in ${target}`);
  } finally {
    process.off('exit', onExit);
    // retried: compilers make stopped may still be writing their last file
    await rm(temp, { recursive: true, force: true, maxRetries: 5 });
  }
  const result = await readBuild(target, true);
  if (!result) throw new Error(`kernel build: ${target} has no ${KERNEL_BUILD_MANIFEST} after the build`);
  return result;
}

/** The build in `dir` if it is complete. */
async function readBuild(dir: string, built: boolean): Promise<KernelBuild | undefined> {
  const text = await readFile(join(dir, KERNEL_BUILD_MANIFEST), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const manifest = JSON.parse(text) as KernelBuildManifest;
  return { dir, image: join(dir, manifest.image_file), config: join(dir, manifest.config_file), manifest, built };
}

/** Why this host cannot build the kernel ("kernel build: missing flex (flex), ...; apt-get install -y ..."), or null. */
export async function kernelBuildBlocker(tarball: string = SOURCE_TARBALL): Promise<string | null> {
  const missing = Object.entries(TOOLS)
    .filter(([tool]) => !which(tool))
    .map(([tool, pkg]) => `${tool} (${pkg})`);
  if (!(await pathExists(LIBELF_HEADER))) missing.push(`${LIBELF_HEADER} (libelf-dev)`);
  if (!(await pathExists(tarball))) missing.push(`${tarball} (${SOURCE_PACKAGE})`);
  if (missing.length === 0) return null;
  const packages = missing.map((entry) => /\(([^)]+)\)$/.exec(entry)![1]);
  return `kernel build: missing ${missing.join(', ')}; apt-get install -y ${[...new Set(packages)].join(' ')}`;
}

/** Throws naming the packages to install for every missing tool. */
async function checkTools(tarball: string): Promise<void> {
  const blocker = await kernelBuildBlocker(tarball);
  if (blocker) throw new Error(blocker);
}

/** The one top-level directory the tarball extracted to. */
async function sourceTree(temp: string, tarball: string): Promise<string> {
  const entries = await readdir(temp);
  if (entries.length !== 1) throw new Error(`kernel build: expected ${tarball} to hold one top-level directory, found ${entries.length}: ${entries.join(', ')}`);
  return join(temp, entries[0]!);
}

async function kernelRelease(src: string, signal: AbortSignal | undefined): Promise<string> {
  const result = await execa('make', ['-s', MAKE_ARCH, 'kernelrelease'], { cwd: src, stdin: 'ignore', cancelSignal: signal });
  const release = result.stdout.trim();
  if (!/^\S+$/.test(release)) throw new Error(`kernel build: make kernelrelease printed ${JSON.stringify(release)}, expected one word`);
  return release;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

