/**
 * Starting a sandbox's launcher inside the sandbox's cgroups: a small static
 * helper (cgroup-exec.c, built once into the cache) joins them itself, drops
 * to the launcher's host uid and gid and execs it, so every process the
 * launcher forks is born in them. Why not rigor writing the launcher's pid
 * into cgroup.procs: see cgroup-exec.c (an RCU grace period, 2-14 ms here,
 * on about every other such write).
 */
import { fileURLToPath } from 'node:url';
import { cachedCBuild } from '../../base/build-cache.ts';

const SOURCE = fileURLToPath(new URL('cgroup-exec.c', import.meta.url));

export interface CgroupExecBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheDir?: string;
  /** C compiler; default `cc` from PATH. */
  compiler?: string;
}

/** The built helper (`cc -static -O2`); throws naming what to install when cc or libc.a is missing. */
export async function cgroupExecPath(opts: CgroupExecBuildOptions = {}): Promise<string> {
  const { path } = await cachedCBuild({
    kind: 'cgroup-exec',
    sources: [SOURCE],
    flags: ['-static', '-O2', '-std=c99', '-Wall', '-Wextra'],
    compiler: opts.compiler,
    cacheDir: opts.cacheDir,
    fileName: 'rigor-cgroup-exec',
  });
  return path;
}

export interface CgroupExec {
  /** Files the helper writes "0" to, joining itself (LimitCgroups.joinFiles). */
  joinFiles: readonly string[];
  /** Host uid and gid the program runs as (no supplementary groups). */
  uid: number;
  gid: number;
  /** Absolute path of the program: the helper does no PATH search. */
  command: string;
  args: readonly string[];
}

/** The helper's arguments that run `command` as asked; throws when `command` is not absolute. */
export function cgroupExecArgs(exec: CgroupExec): string[] {
  if (!exec.command.startsWith('/')) throw new Error(`cgroup-exec: expected an absolute program path, found ${JSON.stringify(exec.command)}`);
  return ['--uid', String(exec.uid), '--gid', String(exec.gid), ...exec.joinFiles.flatMap((file) => ['--join', file]), '--', exec.command, ...exec.args];
}
