/**
 * The syscall probe (fixtures/probe.py) and what its report must say with and
 * without the filter. Its calls use arguments the kernel rejects with an
 * errno other than EPERM, so an EPERM can only come from seccomp.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ENOSYS, EPERM } from '../../../sandbox-core/seccomp/index.ts';

export const FIXTURES = fileURLToPath(new URL('fixtures', import.meta.url));
export const PROBE = `${FIXTURES}/probe.py`;
const EINVAL = 22;

export interface ProbeReport {
  /** Calls the profile denies: errno, 0 when the call succeeded. */
  denied: Record<string, number>;
  /** personality values the profile allows: errno, 0 when the call succeeded. */
  allowed: Record<string, number>;
  /** getpid, a file write, a thread, a fork: whether each worked. */
  ordinary: Record<string, boolean>;
}

export function parseProbe(stdout: string): ProbeReport {
  return JSON.parse(stdout) as ProbeReport;
}

/** Under the profile with `allowedBack` allowed back: each denied call answered by the filter, the rest working. */
export function expectFiltered(report: ProbeReport, allowedBack: string[] = []): void {
  expect(Object.keys(report.denied)).toHaveLength(29);
  for (const [probe, errno] of Object.entries(report.denied)) {
    const syscall = probe.replace(/\(.*$/, '');
    if (allowedBack.includes(syscall)) {
      expect({ probe, errno }).not.toEqual({ probe, errno: EPERM });
      continue;
    }
    // without a namespace flag clone passes the filter and the kernel refuses CLONE_THREAD alone
    const expected = probe === 'clone(no namespace flag)' ? EINVAL : syscall === 'clone3' ? ENOSYS : EPERM;
    expect({ probe, errno }).toEqual({ probe, errno: expected });
  }
  expectOrdinaryWorks(report);
}

/** With no filter: no denied call got EPERM (or ENOSYS for clone3), so the probe tests the filter and not the kernel. */
export function expectUnfiltered(report: ProbeReport): void {
  for (const [probe, errno] of Object.entries(report.denied)) {
    expect({ probe, errno }).not.toEqual({ probe, errno: probe === 'clone3' ? ENOSYS : EPERM });
  }
  expectOrdinaryWorks(report);
}

function expectOrdinaryWorks(report: ProbeReport): void {
  expect(report.allowed).toEqual({ 'personality(0xffffffff)': 0, 'personality(0x0)': 0, 'personality(0x8)': 0, 'personality(0x20000)': 0, 'personality(0x20008)': 0 });
  expect(report.ordinary).toEqual({ getpid: true, write: true, thread: true, fork: true });
}
