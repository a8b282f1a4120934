/**
 * Escapes tried for real from inside every isolating backend (bwrap, runc,
 * gvisor, qemu, docker and podman under runc and under runsc), each asserting that it failed: every attempt of the
 * escape battery (sandbox-core/isolation/escapes/: host files, host processes, the host's loopback and addresses,
 * capabilities, the interception CA's key, another sandbox beside it, host sysctls and core_pattern, the agent's
 * channel), and on the host side the uids the sandbox runs as and the syscall filter.
 * gvisor's commands talk to the Sentry, a kernel in user space: its uid map
 * is the Sentry's own (as a guest's is its kernel's), so its host side is
 * checked on the host. docs/threat-model.md ties each claim to one of these tests.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { gvisorBackend } from '../../../sandbox-core/backends/gvisor.ts';
import type { GvisorSandbox } from '../../../sandbox-core/backends/gvisor/sandbox.ts';
import { compileC } from '../../../base/compile-c.ts';
import { cgroupProcs, dirOf } from '../../../base/cgroups.ts';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import { runcBackend } from '../../../sandbox-core/backends/runc.ts';
import { dockerBackend } from '../../../sandbox-core/backends/docker.ts';
import { podmanBackend } from '../../../sandbox-core/backends/podman.ts';
import { EngineSandbox } from '../../../sandbox-core/backends/engines/sandbox.ts';
import type { Backend, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { SANDBOX_ID_ENV } from '../../../sandbox-core/backends/agent-sandbox.ts';
import { processesWithEnv } from '../../helpers/leftovers.ts';
import { ESCAPE_ATTEMPTS } from '../../../sandbox-core/isolation/escapes/attempts.ts';
import { confinementOf, openEscapeSession, type EscapeSession } from '../../../sandbox-core/isolation/escapes/battery.ts';

/**
 * guest: the commands' kernel is a VM's; sentry: it is gVisor's Sentry, in user space on the host (the gvisor backend, and
 * docker or podman under runsc), whose uid map and filters are its own; gvisorHost: the gvisor backend, whose host side is
 * checked on the host.
 */
const backends: Array<{ backend: Backend; guest: boolean; sentry?: boolean; gvisorHost?: boolean; label?: string }> = [
  { backend: bwrapBackend, guest: false },
  { backend: runcBackend, guest: false },
  { backend: gvisorBackend, guest: false, sentry: true, gvisorHost: true },
  { backend: qemuBackend, guest: true },
  { backend: dockerBackend, guest: false },
  { backend: podmanBackend, guest: false },
  { backend: dockerBackend.variant({ runtime: 'runsc' }), guest: true, sentry: true, label: 'docker (runsc)' },
  { backend: podmanBackend.variant({ runtime: 'runsc' }), guest: true, sentry: true, label: 'podman (runsc)' },
];
const ready = await Promise.all(backends.map(async ({ backend }) => (await backend.available()).ok));

async function sh(sandbox: Sandbox, script: string) {
  const result = await sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 60_000 });
  return { code: result.exitCode, signal: result.signal, out: result.stdout.toString(), err: result.stderr.toString() };
}

/** Real uid of a host process. */
function hostUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** prctl(PR_GET_NO_NEW_PRIVS) as a command sees it, from a static program written into the workspace. */
async function noNewPrivs(sandbox: Sandbox): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-test-nnp-'));
  try {
    const source = fileURLToPath(new URL('../../fixtures/programs/no-new-privs.c', import.meta.url));
    await compileC([source], join(dir, 'no-new-privs'), { flags: ['-static', '-O2'] });
    await sandbox.writeFile('/workspace/no-new-privs', readFileSync(join(dir, 'no-new-privs')), 0o755);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return (await sh(sandbox, '/workspace/no-new-privs')).out.trim();
}

describe.each(backends.map((entry, index) => ({ ...entry, name: entry.label ?? entry.backend.name, skip: !ready[index] })))('$name: escapes from inside', ({ backend, guest, sentry, gvisorHost, label, name, skip }) => {
  let session: EscapeSession;
  let sandbox: Sandbox;
  beforeAll(async () => {
    if (skip) return;
    session = await openEscapeSession(backend, confinementOf(backend.name, label?.includes('runsc') ? 'runsc' : undefined), { readyTimeoutMs: 120_000 });
    sandbox = session.sandbox;
  }, 300_000);
  afterAll(async () => {
    await session?.close();
  }, 120_000);

  it.skipIf(skip)('runs commands as an unprivileged uid, with no_new_privs; host root is not mapped', async () => {
    expect((await sh(sandbox, 'id -u')).out.trim()).not.toBe('0');
    // gVisor's /proc/<pid>/status has no NoNewPrivs line: ask prctl
    if (sentry) expect(await noNewPrivs(sandbox)).toBe('1');
    else expect((await sh(sandbox, 'cat /proc/self/status')).out).toMatch(/^NoNewPrivs:\s+1$/m);
    // the guest's uid map is its own kernel's, the Sentry's its own emulation: no host uid is involved (gvisor's host side is checked below)
    if (guest || sentry) return;
    const map = (await sh(sandbox, 'cat /proc/self/uid_map')).out.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number));
    expect(map.length).toBeGreaterThan(0);
    for (const [inside, outside] of map) expect(outside, `uid ${inside} inside maps to host uid 0`).not.toBe(0);
  });

  // Not for runc: `runc run` is the runtime, root by design; its container's processes are the sandbox (uid_map above).
  // Nor for gvisor: `runsc run` is root the same way; what runs the commands is checked below.
  // Nor for the engines, whose CLI, daemons and shims are root by design like `runc run`: their container's are checked below.
  if (name !== 'runc' && !gvisorHost && !(backend.name === 'docker' || backend.name === 'podman')) {
    it.skipIf(skip)('runs as a host uid of its own: no process rigor launched for it is host root', async () => {
      const launched = processesWithEnv(`${SANDBOX_ID_ENV}=${sandbox.id}`);
      expect(launched.length).toBeGreaterThan(0);
      for (const pid of launched) expect(hostUid(pid), `pid ${pid}`).not.toBe(0);
    });
  }

  if (gvisorHost) {
    it.skipIf(skip)('runs the Sentry and every process of its cgroup as a host uid that is not root, with no_new_privs and a seccomp filter', () => {
      const box = sandbox as GvisorSandbox;
      const uids = box.readHostUids();
      // runsc run is root by design (it sets up cgroups and namespaces) and runs no sandboxed code
      expect(uids.runtime).toBe(0);
      expect(uids.sentry).not.toBe(0);
      expect(uids.gofer).toBe(box.hostIds!.agent);
      // the Sentry, its stub processes (where the commands' code runs on ptrace) and the gofer are the cgroup's members
      const members = cgroupProcs(dirOf(box.cgroups, 'pids')!);
      expect(members.length).toBeGreaterThanOrEqual(3);
      const hostUserNs = readlinkSync('/proc/self/ns/user');
      for (const pid of members) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        expect(hostUid(pid), `pid ${pid}`).not.toBe(0);
        expect(status, `pid ${pid}`).toMatch(/^NoNewPrivs:\s+1$/m);
        expect(status, `pid ${pid}`).toMatch(/^Seccomp:\s+2$/m);
        // whatever capabilities they hold are over a user namespace of their own, not the host's
        expect(readlinkSync(`/proc/${pid}/ns/user`), `pid ${pid}`).not.toBe(hostUserNs);
      }
    });
  }

  if (backend.name === 'docker' || backend.name === 'podman') {
    it.skipIf(skip)("runs as a host uid of its own: no process in the container's cgroup is host root", () => {
      const processes = (sandbox as EngineSandbox).containerPids();
      expect(processes.length).toBeGreaterThan(0);
      for (const pid of processes) expect(hostUid(pid), `pid ${pid}`).not.toBe(0);
    });
  }

  it.each(ESCAPE_ATTEMPTS.map((attempt) => ({ attempt, label: `${attempt.name}: ${attempt.tries}` })))('$label fails', async ({ attempt }) => {
    if (skip) return;
    const outcome = await session.run(attempt);
    expect(outcome.escaped, outcome.evidence).not.toBe(true);
  });

  // Not for a guest: its kernel is the boundary, and no filter is claimed there.
  if (!guest) {
    // new user namespaces refused: the battery's nest-user-namespace
    it.skipIf(skip)('runs under the default seccomp filter', async () => {
      expect((await sh(sandbox, 'cat /proc/self/status')).out).toMatch(/^Seccomp:\s+2$/m);
    });
  }
});

describe.skipIf(!ready[0])('bwrap: the agent fds cannot be taken with pidfd_getfd', () => {
  it('pidfd_open works on the agent, pidfd_getfd of its channel is refused', async () => {
    const sandbox = await bwrapBackend.create();
    try {
      const script = [
        'import ctypes, os, sys',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'pidfd = os.pidfd_open(os.getppid())',
        'fd = libc.syscall(438, pidfd, 1, 0)',
        'print(fd, ctypes.get_errno())',
      ].join('\n');
      const result = await sandbox.exec({ argv: ['python3', '-c', script], timeoutMs: 30_000 });
      const [fd, errno] = result.stdout.toString().trim().split(' ').map(Number);
      expect(fd).toBe(-1);
      expect(errno).toBe(1); // EPERM
    } finally {
      await sandbox.destroy();
    }
  });
});
