/**
 * The agent programs a backend starts inside a sandbox, built on first use
 * into the cache (keyed by the sha256 of their sources) and reused after:
 * the native agent as a static binary, so it runs in a rootfs with no libc,
 * and the Node agent as one plain .mjs file, so Node starts it with no TypeScript loader.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheEntryPath, defaultCacheRoot, ensureCached } from '../../base/cache.ts';
import { compileC } from '../../base/compile-c.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const NATIVE_SOURCES = [here('native/agent.c')];
const NODE_ENTRY = here('node-agent-main.ts');
const NODE_SOURCES = [NODE_ENTRY, here('node-agent.ts'), here('protocol.ts')];

export interface AgentBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. Agents land in <root>/rigor/agent/<sha256>/. */
  cacheDir?: string;
  /** C compiler for the native agent; default `cc` from PATH. */
  compiler?: string;
}

async function entryFor(sources: string[], fileName: string, opts: AgentBuildOptions): Promise<string> {
  const texts = await Promise.all(sources.map((source) => readFile(source, 'utf8')));
  return cacheEntryPath(opts.cacheDir ?? defaultCacheRoot(), 'agent', texts, fileName);
}

/** The static native agent (`cc -static -O2`); throws naming what to install when cc or libc.a is missing. */
export async function nativeAgentPath(opts: AgentBuildOptions = {}): Promise<string> {
  const target = await entryFor(NATIVE_SOURCES, 'rigor-agent', opts);
  // The agent's HELLO version names the source hash, the same one as the cache directory.
  const build = basename(dirname(target)).slice(0, 12);
  const flags = ['-static', '-O2', '-std=c99', '-Wall', '-Wextra', `-DRIGOR_AGENT_BUILD="${build}"`];
  await ensureCached(target, (temp) => compileC(NATIVE_SOURCES, temp, { compiler: opts.compiler, flags }));
  return target;
}

/** The Node agent bundled with its protocol module into one ES module (esbuild strips the types). */
export async function nodeAgentPath(opts: AgentBuildOptions = {}): Promise<string> {
  const target = await entryFor(NODE_SOURCES, 'node-agent.mjs', opts);
  await ensureCached(target, async (temp) => {
    const { build } = await import('esbuild');
    await build({ entryPoints: [NODE_ENTRY], outfile: temp, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' });
  });
  return target;
}

/** The command line that starts an agent speaking on its stdin/stdout; append --port/--stage as needed. */
export async function agentCommand(kind: 'native' | 'node', opts: AgentBuildOptions = {}): Promise<string[]> {
  return kind === 'native' ? [await nativeAgentPath(opts)] : [process.execPath, await nodeAgentPath(opts)];
}
