/**
 * rigor's own build products (small C programs, the bundled Node agent)
 * built once into the cache and reused, under a key that covers every input:
 * an edit to any of them rebuilds, and nothing else does.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { cacheEntryPath, defaultCacheRoot, ensureCached, pathExists } from './cache.ts';
import { compileC } from './compile-c.ts';

/** Hex digits of the key that name a build (HELLO, --version). */
const BUILD_ID_LENGTH = 12;

export interface CBuild {
  /** Cache subdirectory: the product lands in <cacheDir>/rigor/<kind>/<key>/<fileName>. */
  kind: string;
  /** The C files compiled, in order. */
  sources: readonly string[];
  /** Headers to hash besides those the sources reach by `#include "..."` (found on their own). */
  headers?: readonly string[];
  /** Compiler flags, e.g. ['-static', '-O2']. */
  flags: readonly string[];
  /** Libraries linked after the sources, without -l: ['seccomp']. */
  libraries?: readonly string[];
  /** -DNAME=VALUE for each entry. */
  defines?: Readonly<Record<string, string>>;
  /** A macro defined as the build id (the key's first 12 hex digits) as a C string. */
  buildIdMacro?: string;
  /** C compiler; default `cc` from PATH. */
  compiler?: string;
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheDir?: string;
  fileName: string;
}

export interface BundleBuild {
  /** Cache subdirectory: the bundle lands in <cacheDir>/rigor/<kind>/<key>/<fileName>. */
  kind: string;
  /** The TypeScript module bundled, with what it imports, into one ES module. */
  entry: string;
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheDir?: string;
  fileName: string;
}

export interface CachedBuild {
  path: string;
  /** False when an earlier build with the same key was reused. */
  built: boolean;
  /** The key's first 12 hex digits. */
  buildId: string;
}

/** `--version` first lines by compiler command, looked up once per process. */
const identities = new Map<string, Promise<string>>();

/** The compiler's `--version` first line; for one that cannot say, a stand-in naming it (the build then fails with the reason). */
export function compilerIdentity(compiler = 'cc'): Promise<string> {
  let identity = identities.get(compiler);
  if (!identity) {
    identity = execa(compiler, ['--version'], { reject: false, stdin: 'ignore' }).then((result) => {
      const line = String(result.stdout).split('\n')[0]?.trim();
      if (result.exitCode === 0 && line) return line;
      // not kept, so a compiler installed later is asked again
      identities.delete(compiler);
      return `unknown compiler ${compiler}`;
    });
    identities.set(compiler, identity);
  }
  return identity;
}

const INCLUDE = /^\s*#\s*include\s*"([^"]+)"/gm;

/** `files` and the local headers they reach by `#include "..."`, resolved as cc does (beside the includer, then -I dirs). */
async function withLocalHeaders(files: readonly string[], flags: readonly string[]): Promise<string[]> {
  const includeDirs = flags.filter((flag) => flag.startsWith('-I') && flag.length > 2).map((flag) => resolve(flag.slice(2)));
  const seen = new Set<string>();
  const queue = files.map((file) => resolve(file));
  const texts = new Map<string, string>();
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    texts.set(file, text);
    for (const [, name] of text.matchAll(INCLUDE)) {
      for (const dir of [dirname(file), ...includeDirs]) {
        const candidate = resolve(dir, name as string);
        if (await pathExists(candidate)) {
          queue.push(candidate);
          break;
        }
      }
      // not found locally: a system header, covered by the compiler's identity
    }
  }
  return [...seen];
}

/** sha256 of a file's bytes, named by its path relative to `base` (so checkouts elsewhere share the key). */
async function fileDigests(files: readonly string[], base: string): Promise<[string, string][]> {
  return Promise.all(
    files.map(async (file): Promise<[string, string]> => [relative(base, file), createHash('sha256').update(await readFile(file)).digest('hex')]),
  );
}

function entryFor(cacheDir: string | undefined, kind: string, keyInput: unknown, fileName: string): { path: string; buildId: string } {
  const path = cacheEntryPath(cacheDir ?? defaultCacheRoot(), kind, [JSON.stringify(keyInput)], fileName);
  return { path, buildId: basename(dirname(path)).slice(0, BUILD_ID_LENGTH) };
}

function defineFlags(spec: CBuild): string[] {
  return Object.entries(spec.defines ?? {}).map(([name, value]) => `-D${name}=${value}`);
}

/** Where `spec` is cached: the key hashes sources, local headers, flags, defines, libraries, compiler identity and file name. */
export async function cBuildEntry(spec: CBuild): Promise<{ path: string; buildId: string }> {
  const base = dirname(resolve(spec.sources[0] ?? '.'));
  const sources = spec.sources.map((source) => resolve(source));
  const all = await withLocalHeaders([...sources, ...(spec.headers ?? [])], spec.flags);
  const headers = all.filter((file) => !sources.includes(file));
  const keyInput = {
    sources: await fileDigests(sources, base),
    headers: await fileDigests(headers, base),
    flags: spec.flags,
    defines: defineFlags(spec),
    buildIdMacro: spec.buildIdMacro ?? null,
    libraries: spec.libraries ?? [],
    compiler: await compilerIdentity(spec.compiler),
    fileName: spec.fileName,
  };
  return entryFor(spec.cacheDir, spec.kind, keyInput, spec.fileName);
}

/** The executable built from `spec`, compiled unless its key is cached; throws "<compiler> failed: <why>". */
export async function cachedCBuild(spec: CBuild): Promise<CachedBuild> {
  const { path, buildId } = await cBuildEntry(spec);
  const flags = [...spec.flags, ...defineFlags(spec), ...(spec.buildIdMacro ? [`-D${spec.buildIdMacro}="${buildId}"`] : [])];
  // libraries go after the sources, where the linker looks for what the sources need
  const inputs = [...spec.sources, ...(spec.libraries ?? []).map((library) => `-l${library}`)];
  const built = await ensureCached(path, (temp) => compileC(inputs, temp, { compiler: spec.compiler, flags }));
  return { path, built, buildId };
}

/** `spec.entry` bundled by esbuild into one ES module for Node 20, cached under a key over every module it bundles. */
export async function cachedBundle(spec: BundleBuild): Promise<CachedBuild> {
  const esbuild = await import('esbuild');
  const entry = resolve(spec.entry);
  const workDir = dirname(entry);
  const options = { bundle: true, platform: 'node', format: 'esm', target: 'node20' } as const;
  // in memory: the metafile lists what was bundled, which the key must cover
  const result = await esbuild.build({
    ...options,
    entryPoints: [entry],
    outfile: join(workDir, spec.fileName),
    absWorkingDir: workDir,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`bundling ${spec.entry}: esbuild wrote no output`);
  const modules = Object.keys(result.metafile.inputs).sort();
  const keyInput = {
    modules: await fileDigests(
      modules.map((module) => resolve(workDir, module)),
      workDir,
    ),
    esbuild: esbuild.version,
    options,
    fileName: spec.fileName,
  };
  const { path, buildId } = entryFor(spec.cacheDir, spec.kind, keyInput, spec.fileName);
  const built = await ensureCached(path, (temp) => writeFile(temp, output.contents));
  return { path, built, buildId };
}
