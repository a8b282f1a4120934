/**
 * A profile as the raw BPF program bwrap's --seccomp FD takes (struct
 * sock_filter[]), made by compiler.c with libseccomp. The compiler is built on
 * first use into the cache (keyed by every input of the build) and linked
 * dynamically against the host's libseccomp; each profile is compiled once
 * per process, since that takes a process start.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cachedCBuild } from '../../base/build-cache.ts';
import type { SeccompOp, SeccompProfile } from './profile.ts';

const SOURCE = fileURLToPath(new URL('compiler.c', import.meta.url));
const FLAGS = ['-O2', '-std=c99', '-Wall', '-Wextra'];
const INSTALL_HINT = 'install libseccomp-dev (apt-get install libseccomp-dev)';
/** Comparison names of the compiler's input format. */
const OPS: Record<SeccompOp, string> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};

export interface SeccompBuildOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. The compiler lands in <root>/rigor/seccomp/<sha256>/. */
  cacheDir?: string;
  /** C compiler; default `cc` from PATH. */
  compiler?: string;
}

/** The built compiler (cached); throws saying to install libseccomp-dev when its header or library is missing. */
export async function seccompCompilerPath(opts: SeccompBuildOptions = {}): Promise<string> {
  const build = { kind: 'seccomp', sources: [SOURCE], flags: FLAGS, libraries: ['seccomp'], compiler: opts.compiler, cacheDir: opts.cacheDir, fileName: 'rigor-seccomp-compiler' };
  const { path } = await cachedCBuild(build).catch((error: Error) => {
    if (/seccomp\.h|-lseccomp/.test(error.message)) throw new Error(`building the seccomp compiler: ${INSTALL_HINT}: ${error.message}`);
    throw error;
  });
  return path;
}

/** The compiler's input for `profile`: the default action, the arches, one deny line per rule. */
export function compilerInput(profile: SeccompProfile): string {
  const lines = [`# ${profile.name}`, `default ${profile.defaultAction}`, `arch ${profile.architectures.join(' ')}`];
  for (const rule of profile.rules) {
    const args = rule.args.map((arg) => {
      const values = arg.op === 'SCMP_CMP_MASKED_EQ' ? [arg.value, arg.valueTwo ?? 0] : [arg.value];
      return [arg.index, OPS[arg.op], ...values.map((value) => `0x${value.toString(16)}`)].join(' ');
    });
    lines.push(['deny', rule.errno, rule.syscall, ...args].join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/** Compiles `profile` now; `skipped` names syscalls this host's libseccomp does not know (left out of the filter). */
export async function compileSeccomp(profile: SeccompProfile, opts: SeccompBuildOptions = {}): Promise<{ bpf: Buffer; skipped: string[] }> {
  if (process.arch !== 'x64') {
    throw new Error(`seccomp profile ${profile.name}: expected an x86_64 host (its arches are ${profile.architectures.join(', ')}), found ${process.arch}`);
  }
  const compiler = await seccompCompilerPath(opts);
  const result = await execa(compiler, [], { input: compilerInput(profile), encoding: 'buffer', reject: false });
  const stderr = Buffer.from(result.stderr).toString().trim();
  if (result.exitCode !== 0) {
    const hint = /libseccomp\.so/.test(stderr) ? ` (${INSTALL_HINT})` : '';
    throw new Error(`seccomp profile ${profile.name}: the compiler failed (exit ${result.exitCode ?? result.signal ?? 'unknown'}): ${stderr || result.shortMessage}${hint}`);
  }
  const bpf = Buffer.from(result.stdout);
  // a sock_filter is 8 bytes; anything else is not a program
  if (bpf.length === 0 || bpf.length % 8 !== 0) {
    throw new Error(`seccomp profile ${profile.name}: expected a BPF program (a non-zero multiple of 8 bytes), found ${bpf.length} bytes`);
  }
  const skipped = /skipped syscalls unknown to libseccomp [^:]*: (.*)$/m.exec(stderr)?.[1]?.split(' ') ?? [];
  return { bpf, skipped };
}

/** Compiled programs by compiler input (which starts with the profile name); a failure is not kept, so a later call retries. */
const compiled = new Map<string, Promise<Buffer>>();

/** The BPF program of `profile`, compiled once per profile per process (the Buffer is shared: do not modify it). */
export function seccompBpf(profile: SeccompProfile, opts: SeccompBuildOptions = {}): Promise<Buffer> {
  const key = compilerInput(profile);
  let bpf = compiled.get(key);
  if (!bpf) {
    bpf = compileSeccomp(profile, opts).then((result) => result.bpf);
    compiled.set(key, bpf);
    bpf.catch(() => compiled.delete(key));
  }
  return bpf;
}
