/**
 * ociSeccomp under real runc: the same probes as under bwrap, in a minimal
 * container with `linux.seccomp` set, showing runc 1.1 takes errnoRet,
 * masked comparisons and the personality blocks as the profile means them.
 */
import { describe, expect, it } from 'vitest';
import { which } from '../../../base/which.ts';
import { ociSeccomp, seccompProfile } from '../../../sandbox-core/seccomp/index.ts';
import { runInRunc } from './oci-bundle.ts';
import { FIXTURES, expectFiltered, expectUnfiltered, parseProbe } from './probe.ts';

const missing = ['runc', 'python3', 'unshare'].filter((tool) => !which(tool));
const skipReason = process.getuid?.() !== 0 ? 'runc needs root on this host' : missing.length > 0 ? `${missing.join(', ')} not on PATH` : '';
const STATUS_AND_UNSHARE = ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; unshare -U true; echo "unshare exit $?"'];
const PROBE = ['python3', '/probe/probe.py'];
const BINDS = { [FIXTURES]: '/probe' };

describe.skipIf(skipReason !== '')(`seccomp under runc${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('without linux.seccomp: Seccomp 0, unshare -U works, and no probe is refused with EPERM', async () => {
    const shell = await runInRunc(STATUS_AND_UNSHARE, undefined);
    expect(shell).toEqual({ exitCode: 0, stdout: 'Seccomp:\t0\nunshare exit 0', stderr: '' });
    const probe = await runInRunc(PROBE, undefined, BINDS);
    expect(probe.exitCode).toBe(0);
    expectUnfiltered(parseProbe(probe.stdout));
  });

  it('with the default profile: Seccomp 2 and unshare -U refused', async () => {
    const shell = await runInRunc(STATUS_AND_UNSHARE, ociSeccomp(seccompProfile()));
    expect(shell.stdout).toBe('Seccomp:\t2\nunshare exit 1');
    expect(shell.stderr).toMatch(/unshare failed: Operation not permitted/);
  });

  it('with the default profile: each denied call gets EPERM (clone3 ENOSYS); ordinary work still runs', async () => {
    const probe = await runInRunc(PROBE, ociSeccomp(seccompProfile()), BINDS);
    expect(probe.stderr).toBe('');
    expect(probe.exitCode).toBe(0);
    expectFiltered(parseProbe(probe.stdout));
  });

  it('with unshare allowed back: unshare -U works again', async () => {
    const shell = await runInRunc(STATUS_AND_UNSHARE, ociSeccomp(seccompProfile({ allowSyscalls: ['unshare'] })));
    expect(shell).toEqual({ exitCode: 0, stdout: 'Seccomp:\t2\nunshare exit 0', stderr: '' });
  });
});
