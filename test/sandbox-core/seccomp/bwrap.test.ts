/**
 * The BPF program under real bwrap: `--seccomp 3` with the bytes written to a
 * pipe on fd 3, and probes inside that must be refused by the filter (while
 * the same probes without it are not) and ordinary work that must still run.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { which } from '../../../base/which.ts';
import { seccompBpf, seccompCompilerPath, seccompProfile } from '../../../sandbox-core/seccomp/index.ts';
import { PROBE, expectFiltered, expectUnfiltered, parseProbe } from './probe.ts';

const missing = ['bwrap', 'python3', 'unshare'].filter((tool) => !which(tool));
const build = await seccompCompilerPath().then(
  () => '',
  (error: Error) => error.message,
);
const skipReason = missing.length > 0 ? `${missing.join(', ')} not on PATH` : build;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `argv` in a bwrap sandbox over a read-only host root, with `bpf` (if any) as its seccomp filter on fd 3. */
function inBwrap(argv: string[], bpf?: Buffer): Promise<Run> {
  // The probe is bound in on its own: the checkout may lie under the host's /tmp, which the fresh /tmp hides.
  const args = ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--ro-bind', PROBE, PROBE_INSIDE];
  const child = spawn('bwrap', [...args, ...(bpf ? ['--seccomp', '3'] : []), '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
  const fd3 = child.stdio[3] as NodeJS.WritableStream;
  // bwrap reads the program to EOF before it runs anything
  fd3.on('error', () => undefined);
  fd3.end(bpf ?? Buffer.alloc(0));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const PROBE_INSIDE = '/tmp/probe.py';

const STATUS_AND_UNSHARE = ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; unshare -U true; echo "unshare exit $?"'];

describe.skipIf(skipReason !== '')(`seccomp under bwrap${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('without a filter: Seccomp 0, unshare -U works, and no probe is refused with EPERM', async () => {
    const shell = await inBwrap(STATUS_AND_UNSHARE);
    expect(shell.out).toBe('Seccomp:\t0\nunshare exit 0\n');
    const probe = await inBwrap(['python3', PROBE_INSIDE]);
    expect(probe.code).toBe(0);
    expectUnfiltered(parseProbe(probe.out));
  });

  it('with the default profile: Seccomp 2 (filter mode) and unshare -U refused', async () => {
    const shell = await inBwrap(STATUS_AND_UNSHARE, await seccompBpf(seccompProfile()));
    expect(shell.out).toBe('Seccomp:\t2\nunshare exit 1\n');
    expect(shell.err).toMatch(/unshare failed: Operation not permitted/);
  });

  it('with the default profile: each denied call gets EPERM (clone3 ENOSYS); getpid, writes, threads and fork still work', async () => {
    const probe = await inBwrap(['python3', PROBE_INSIDE], await seccompBpf(seccompProfile()));
    expect(probe.err).toBe('');
    expect(probe.code).toBe(0);
    expectFiltered(parseProbe(probe.out));
  });

  it('with unshare allowed back: unshare -U works and only unshare escapes the filter', async () => {
    const bpf = await seccompBpf(seccompProfile({ allowSyscalls: ['unshare'] }));
    const shell = await inBwrap(STATUS_AND_UNSHARE, bpf);
    expect(shell.out).toBe('Seccomp:\t2\nunshare exit 0\n');
    const probe = await inBwrap(['python3', PROBE_INSIDE], bpf);
    expect(probe.code).toBe(0);
    const report = parseProbe(probe.out);
    expectFiltered(report, ['unshare']);
    // what the kernel answers an invalid flag: the call reached it
    expect(report.denied.unshare).toBe(22);
  });
});
