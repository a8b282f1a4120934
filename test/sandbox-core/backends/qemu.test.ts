/**
 * A real qemu guest (TCG here): one shared sandbox for everything that does
 * not end it, one more for destroy and one for a capability grant. Each boot
 * costs about 1.5 s of both cores, so the file boots three.
 */
import { processExists } from '../../../base/signal.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import type { QemuSandbox } from '../../../sandbox-core/backends/qemu/sandbox.ts';
import { liveSandboxes } from '../../../sandbox-core/cleanup.ts';
import { probeKvm } from '../../../sandbox-core/kvm/probe.ts';
import { processesWithEnv, settlesToZero } from '../../helpers/leftovers.ts';

const availability = await qemuBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

async function sh(sandbox: QemuSandbox, script: string): Promise<{ code: number | null; out: string; err: string }> {
  const result = await sandbox.exec({ argv: ['sh', '-c', script] });
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
}

function capEff(status: string): bigint {
  return BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
}

describe.skipIf(!availability.ok)(`qemu guest${skipReason}`, () => {
  let sandbox: QemuSandbox;
  /** A host process with a marker in its command line that the guest must not see. */
  let marker: ChildProcess;
  const markerText = `rigor-host-marker-${process.pid}`;

  beforeAll(async () => {
    // argv0 puts the marker in its /proc/<pid>/cmdline (dash's exec has no -a: the old `sh -c 'exec -a …'` never ran)
    marker = spawn('sleep', ['600'], { stdio: 'ignore', argv0: markerText });
    sandbox = (await qemuBackend.create({ env: { GREETING: 'from-spec' } })) as QemuSandbox;
  });
  afterAll(async () => {
    marker?.kill('SIGKILL');
    await sandbox?.destroy();
  });

  it('boots to ready with ordered host phases, guest boot stages and the accelerator the KVM probe chose', async () => {
    const { prepared, launched, init, connected, ready } = sandbox.phases;
    expect(prepared).toBeGreaterThanOrEqual(0);
    expect(launched).toBeGreaterThanOrEqual(prepared!);
    // /init's first console line, seen by the host: after launch, before the agent's hello
    expect(init).toBeGreaterThan(launched!);
    expect(connected).toBeGreaterThan(init!);
    expect(ready).toBeGreaterThanOrEqual(connected!);
    expect(sandbox.bootStages.map((stage) => stage.name)).toEqual(['kernel_to_init', 'modules_loaded', 'mounts_done', 'network_done', 'agent_start']);
    const times = sandbox.bootStages.map((stage) => stage.ms);
    expect(times[0]).toBeGreaterThan(0);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // the guest clock started after qemu was launched: its stages fit inside the host's launch → HELLO window
    expect(times.at(-1)!).toBeLessThan(connected! - launched!);
    expect(times[0]!).toBeLessThan(init! - launched!);
    const kvm = await probeKvm();
    expect(sandbox.accel).toBe(kvm.status === 'usable' ? 'kvm' : 'tcg');
    expect(sandbox.accelReason).toContain(kvm.status);
  });

  it('runs a command in the workspace as nobody, with the spec env under the request env, and stdin', async () => {
    const hello = await sandbox.exec({ argv: ['echo', 'hello'] });
    expect(hello).toMatchObject({ exitCode: 0, timedOut: false });
    expect(hello.stdout.toString()).toBe('hello\n');
    expect(hello.guest.received).toBeLessThanOrEqual(hello.guest.exited);
    const env = await sandbox.exec({ argv: ['sh', '-c', 'echo $GREETING $OTHER; pwd; id -u; cat'], env: { OTHER: 'req' }, stdin: 'in' });
    expect(env.stdout.toString()).toBe('from-spec req\n/workspace\n65534\nin');
  });

  it('writes and reads files in /workspace, shared between file requests and commands', async () => {
    await sandbox.writeFile('/workspace/note.txt', 'written by the host');
    expect((await sh(sandbox, 'cat note.txt; echo; stat -c %U note.txt')).out).toBe('written by the host\nnobody\n');
    expect((await sh(sandbox, 'echo made inside > inside.txt')).code).toBe(0);
    expect((await sandbox.readFile('/workspace/inside.txt')).toString()).toBe('made inside\n');
  });

  it('has a read-only root: writing /etc fails from a command and from a file request', async () => {
    const write = await sh(sandbox, 'echo x > /etc/escape');
    expect(write.code).not.toBe(0);
    expect(write.err).toMatch(/Read-only file system|Permission denied/);
    await expect(sandbox.writeFile('/etc/escape', 'x')).rejects.toThrow(/write \/etc\/escape: (Read-only file system|Permission denied)/);
    expect((await sh(sandbox, 'grep " / " /proc/mounts')).out).toMatch(/^\/dev\/vda \/ squashfs ro[, ]/);
  });

  it('has no network but its loopback: no other interface, connecting out fails, lo works', async () => {
    const links = await sh(sandbox, 'ls /sys/class/net');
    expect(links.out.split(/\s+/).filter(Boolean)).toEqual(['lo']);
    for (const address of ['10.0.2.2', '1.1.1.1']) {
      const attempt = await sh(sandbox, `nc -w 2 ${address} 80 </dev/null`);
      expect(attempt.code).not.toBe(0);
      expect(attempt.err).toMatch(/Network is unreachable/);
    }
    const loopback = await sh(sandbox, 'nc -l -p 8080 > /tmp/got & sleep 0.3; echo over-lo | nc -w 1 127.0.0.1 8080; sleep 0.2; cat /tmp/got');
    expect(loopback.out).toBe('over-lo\n');
  });

  it('gives commands no capability and no way back to root', async () => {
    const status = await sh(sandbox, 'cat /proc/self/status');
    expect(capEff(status.out)).toBe(0n);
    expect(status.out).toMatch(/^NoNewPrivs:\s*1$/m);
    expect((await sh(sandbox, 'mount -t tmpfs x /tmp')).code).not.toBe(0);
  });

  it('cannot see host processes: its /proc lists only the guest kernel\'s own', async () => {
    expect(processExists(marker.pid!)).toBe(true); // the host process it must not see is running
    const procs = await sh(sandbox, 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done');
    expect(procs.out).not.toContain(markerText);
    expect(procs.out).toContain('/sbin/rigor-agent');
    expect((await sh(sandbox, 'cat /proc/1/comm')).out).toBe('rigor-agent\n');
    const count = (await sh(sandbox, 'ls -d /proc/[0-9]* | wc -l')).out;
    expect(Number(count)).toBeLessThan(200);
  });

  it('holds an exec while paused and answers it after resume', async () => {
    await sandbox.pause();
    let answered = false;
    const pending = sandbox.exec({ argv: ['echo', 'after'] }).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(answered).toBe(false);
    await sandbox.resume();
    expect((await pending).stdout.toString()).toBe('after\n');
  });

  it('reports the PSS of its qemu process', async () => {
    const stats = await sandbox.stats();
    expect(stats.processes).toBe(1);
    expect(stats.memory.kind).toBe('pss');
    // guest RAM it touched, the kernel, the translation cache: tens of MiB, under the 256 MiB guest plus qemu
    expect(stats.memory.bytes).toBeGreaterThan(20 * 2 ** 20);
    expect(stats.memory.bytes).toBeLessThan(512 * 2 ** 20);
  });
});

describe.skipIf(!availability.ok)(`qemu destroy and grants${skipReason}`, () => {
  it('destroy leaves no qemu process and no temp dir, and is idempotent', async () => {
    const sandbox = (await qemuBackend.create()) as QemuSandbox;
    const tracked = liveSandboxes().find((live) => live.id === sandbox.id)!;
    const [dir] = tracked.resources.tempDirs;
    expect(existsSync(`${dir}/agent.sock`)).toBe(true);
    expect(processesWithEnv(`RIGOR_SANDBOX_ID=${sandbox.id}`)).toHaveLength(1);
    await Promise.all([sandbox.destroy(), sandbox.destroy()]);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_SANDBOX_ID=${sandbox.id}`).length)).toBe(0);
    expect(existsSync(dir!)).toBe(false);
    expect(liveSandboxes().some((live) => live.id === sandbox.id)).toBe(false);
    await expect(sandbox.exec({ argv: ['true'] })).rejects.toThrow(/destroyed/);
  });

  it('gives commands exactly the capabilities the spec grants', async () => {
    const sandbox = (await qemuBackend.create({ capabilities: ['CAP_NET_ADMIN'] })) as QemuSandbox;
    try {
      const status = await sh(sandbox, 'cat /proc/self/status');
      expect(capEff(status.out)).toBe(1n << 12n); // CAP_NET_ADMIN = 12
      expect((await sh(sandbox, 'ip link set lo mtu 1500')).code).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  });

  it('refuses what a guest cannot give before booting anything', async () => {
    await expect(qemuBackend.create({ agent: 'node' })).rejects.toThrow(/sandbox spec agent: .*found "node"/);
    await expect(qemuBackend.create({ workspacePath: '/work' })).rejects.toThrow(/sandbox spec workspacePath: .*found "\/work"/);
    await expect(qemuBackend.create({ capabilities: ['net_admin'] })).rejects.toThrow(/sandbox spec capabilities: .*found "net_admin"/);
  });
});
