/**
 * Escapes tried for real from inside every isolating backend (bwrap, runc,
 * gvisor, qemu, docker and podman under runc and under runsc), each asserting that it failed: the core_pattern host-root escape,
 * every global sysctl, host files the spec does not grant, the agent's
 * channel (forged replies, stopping the agent), and the syscall filter.
 * gvisor's commands talk to the Sentry, a kernel in user space: its uid map
 * is the Sentry's own (as a guest's is its kernel's), so its host side is
 * checked on the host. docs/threat-model.md ties each claim to one of these tests.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
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
import { defaultCacheRoot } from '../../../base/cache.ts';
import { encodeFrame, field, MessageType, Tag } from '../../../sandbox-core/agent/protocol.ts';
import { SANDBOX_ID_ENV } from '../../../sandbox-core/backends/agent-sandbox.ts';
import { processesWithEnv } from '../../helpers/leftovers.ts';

const CORE_PATTERN = '/proc/sys/kernel/core_pattern';
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

/** The first line of a host file only root can read, or undefined when the host has none. */
function secretLine(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').split('\n')[0] || undefined;
  } catch {
    return undefined;
  }
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

describe.each(backends.map((entry, index) => ({ ...entry, name: entry.label ?? entry.backend.name, skip: !ready[index] })))('$name: escapes from inside', ({ backend, guest, sentry, gvisorHost, name, skip }) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    if (!skip) sandbox = await backend.create({ readyTimeoutMs: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await sandbox?.destroy();
  });

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

  it.skipIf(skip)('cannot make the kernel run a program on the host through core_pattern', async () => {
    const before = readFileSync(CORE_PATTERN, 'utf8');
    try {
      // A harmless value: were it taken, a crash would run /bin/true on the host.
      const attempt = await sh(sandbox, `echo '|/bin/true rigor-escape-test' > ${CORE_PATTERN}`);
      expect(attempt.code).not.toBe(0);
      expect(readFileSync(CORE_PATTERN, 'utf8')).toBe(before);
    } finally {
      if (readFileSync(CORE_PATTERN, 'utf8') !== before) writeFileSync(CORE_PATTERN, before);
    }
  });

  it.skipIf(skip)('cannot change any sysctl, /proc/sysrq-trigger or a global proc file', async () => {
    // A readable file gets its own value written back (a success changes nothing); an unreadable one is only opened
    // for append, writing nothing. Per-namespace files that open for anyone (ns_last_pid) still refuse the write.
    const writable = await sh(
      sandbox,
      'for f in $(find /proc/sys -type f 2>/dev/null) /proc/sysrq-trigger /proc/kcore; do if v=$(cat "$f" 2>/dev/null); then (printf "%s\\n" "$v" > "$f") 2>/dev/null && echo "$f"; else (: >> "$f") 2>/dev/null && echo "$f"; fi; done; true',
    );
    expect(writable.out.trim().split('\n').filter(Boolean)).toEqual([]);
  });

  it.skipIf(skip)('cannot read host credentials, home directories, SSH keys, rigor cache or the repository', async () => {
    const shadow = secretLine('/etc/shadow');
    const outside = await sh(sandbox, `cat /etc/shadow /etc/gshadow /etc/ssh/ssh_host_*_key /root/.ssh/* 2>/dev/null; ls -a /root /home 2>/dev/null; true`);
    if (shadow) expect(outside.out).not.toContain(shadow);
    expect(outside.out).not.toMatch(/PRIVATE KEY/);
    expect(outside.out).not.toMatch(/^\.cache$/m);
    for (const path of [defaultCacheRoot(), process.cwd(), `${process.cwd()}/package.json`]) {
      expect((await sh(sandbox, `test -e '${path}'`)).code, `${path} is visible inside`).not.toBe(0);
    }
  });

  it.skipIf(skip)('cannot write a forged reply on the agent channel: the real exit code and output come back', async () => {
    // One forged reply for each request id the host may be waiting on: the attacker does not know which is next.
    const forged = Buffer.concat(
      Array.from({ length: 512 }, (_, id) => encodeFrame(MessageType.EXEC_RESULT, id + 1, [field.int(Tag.EXIT_CODE, 0), field.bytes(Tag.STDOUT, 'FORGED-OUTPUT\n')])),
    );
    await sandbox.writeFile('/workspace/forged.bin', forged);
    // $PPID is the agent (on runc also pid 1). Its fds are opened through /proc where they are pipes, and taken with
    // pidfd_getfd where they are sockets (/proc cannot open those) and python3 is there to make the call.
    const takeOver = [
      'import ctypes, os, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'pidfd = os.pidfd_open(int(sys.argv[1]))',
      'fd = libc.syscall(438, pidfd, 1, 0)',
      "fd >= 0 and os.write(fd, open('forged.bin', 'rb').read())",
    ].join('; ');
    const result = await sh(
      sandbox,
      `echo REAL-OUTPUT; agent=$PPID; for fd in 0 1 2; do cat forged.bin > /proc/$agent/fd/$fd; cat forged.bin > /proc/1/fd/$fd; done 2>/dev/null; command -v python3 >/dev/null && python3 -c "${takeOver}" $agent 2>/dev/null; exit 7`,
    );
    expect(result.code).toBe(7);
    expect(result.out).toBe('REAL-OUTPUT\n');
    expect((await sh(sandbox, 'echo still-answering')).out).toBe('still-answering\n');
  });

  it.skipIf(skip)('cannot stop or kill its agent', async () => {
    const attempt = await sh(sandbox, 'kill -STOP $PPID; kill -KILL $PPID; echo after');
    expect(attempt.out).toBe('after\n');
    expect(attempt.err).toMatch(/not permitted/i);
    expect(await sandbox.ping()).toBeGreaterThan(0);
  });

  // Not for a guest: its kernel is the boundary, and no filter is claimed there.
  if (!guest) {
    it.skipIf(skip)('runs under the default seccomp filter: new user namespaces refused', async () => {
      expect((await sh(sandbox, 'cat /proc/self/status')).out).toMatch(/^Seccomp:\s+2$/m);
      expect((await sh(sandbox, 'unshare -U true')).code).not.toBe(0);
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
