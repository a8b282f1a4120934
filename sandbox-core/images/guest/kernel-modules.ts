/**
 * Which kernel module files a guest needs, in the order insmod must load
 * them, read from the kernel's own modules.dep and modules.builtin (what
 * modprobe would do, without modprobe or depmod in the guest).
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';

export interface ModuleIndex {
  /** Module name ("virtio_blk") → its path relative to /lib/modules/<version> and its direct dependencies' names. */
  modules: Map<string, { path: string; deps: string[] }>;
  /** Names of modules built into the kernel image: nothing to load. */
  builtin: Set<string>;
}

/** "kernel/drivers/block/virtio_blk.ko.xz" → "virtio_blk" (module names treat - and _ alike). */
export function moduleName(path: string): string {
  return basename(path)
    .replace(/\.ko(\.(gz|xz|zst))?$/, '')
    .replace(/-/g, '_');
}

/** The index from the texts of modules.dep and modules.builtin. */
export function parseModuleIndex(depText: string, builtinText: string): ModuleIndex {
  const modules = new Map<string, { path: string; deps: string[] }>();
  for (const line of depText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    modules.set(moduleName(path), { path, deps });
  }
  const builtin = new Set(builtinText.split('\n').filter(Boolean).map(moduleName));
  return { modules, builtin };
}

/** Module paths to insmod for `wanted`, each after its dependencies, once each; built-in ones are left out. */
export function moduleLoadOrder(index: ModuleIndex, wanted: readonly string[], kernelVersion: string): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, neededBy: string | undefined): void => {
    if (done.has(name) || index.builtin.has(name)) return;
    if (visiting.has(name)) throw new Error(`kernel ${kernelVersion}: modules.dep has a dependency cycle through ${name}`);
    const module = index.modules.get(name);
    if (!module) {
      const why = neededBy ? ` (needed by ${neededBy})` : '';
      throw new Error(`kernel ${kernelVersion}: module ${name}${why} is neither in modules.dep nor built in; the guest cannot boot without it`);
    }
    visiting.add(name);
    for (const dep of module.deps) visit(dep, name);
    visiting.delete(name);
    done.add(name);
    order.push(module.path);
  };
  for (const name of wanted) visit(name.replace(/-/g, '_'), undefined);
  return order;
}

export async function readModuleIndex(modulesDir: string, kernelVersion: string): Promise<ModuleIndex> {
  let depText: string;
  try {
    depText = await readFile(join(modulesDir, 'modules.dep'), 'utf8');
  } catch (error) {
    throw new Error(`kernel ${kernelVersion}: cannot read ${join(modulesDir, 'modules.dep')} (${(error as NodeJS.ErrnoException).code}); install the modules of that kernel (its linux-image package)`);
  }
  const builtinText = await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => '');
  return parseModuleIndex(depText, builtinText);
}

/** A module file's bytes, decompressed: busybox insmod loads plain .ko only. */
export async function readModule(file: string): Promise<Buffer> {
  if (file.endsWith('.ko')) return readFile(file);
  if (file.endsWith('.ko.gz')) return gunzipSync(await readFile(file));
  const tool = file.endsWith('.ko.xz') ? 'xz' : file.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) throw new Error(`kernel module ${file}: expected .ko, .ko.gz, .ko.xz or .ko.zst`);
  const result = await execa(tool, ['-dc', file], { encoding: 'buffer', stdin: 'ignore' });
  return Buffer.from(result.stdout);
}
