/**
 * The agent programs a backend starts inside a sandbox, built on first use
 * into the cache (keyed by every input of the build) and reused after:
 * the native agent as a static binary, so it runs in a rootfs with no libc,
 * and the Node agent as one plain .mjs file, so Node starts it with no TypeScript loader.
 */
import { fileURLToPath } from 'node:url';
import { cachedBundle, cachedCBuild } from '../../base/build-cache.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const NATIVE_SOURCE = here('native/agent.c');
const NODE_ENTRY = here('node-agent-main.ts');

export interface AgentBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. Agents land in <root>/rigor/agent/<sha256>/. */
  cacheDir?: string;
  /** C compiler for the native agent; default `cc` from PATH. */
  compiler?: string;
}

/** The static native agent (`cc -static -O2`); throws naming what to install when cc or libc.a is missing. */
export async function nativeAgentPath(opts: AgentBuildOptions = {}): Promise<string> {
  // The agent's HELLO version names the build: the cache key's prefix.
  const { path } = await cachedCBuild({
    kind: 'agent',
    sources: [NATIVE_SOURCE],
    flags: ['-static', '-O2', '-std=c99', '-Wall', '-Wextra'],
    buildIdMacro: 'RIGOR_AGENT_BUILD',
    compiler: opts.compiler,
    cacheDir: opts.cacheDir,
    fileName: 'rigor-agent',
  });
  return path;
}

/** The Node agent bundled with every module it imports into one ES module (esbuild strips the types). */
export async function nodeAgentPath(opts: AgentBuildOptions = {}): Promise<string> {
  const { path } = await cachedBundle({ kind: 'agent', entry: NODE_ENTRY, cacheDir: opts.cacheDir, fileName: 'node-agent.mjs' });
  return path;
}

/** The command line that starts an agent speaking on its stdin/stdout; append --port/--stage as needed. */
export async function agentCommand(kind: 'native' | 'node', opts: AgentBuildOptions = {}): Promise<string[]> {
  return kind === 'native' ? [await nativeAgentPath(opts)] : [process.execPath, await nodeAgentPath(opts)];
}
