/**
 * rigor's private dockerd, for real where rigor is root with dockerd on PATH
 * (whether or not another engine answers; containers started on it with the
 * CLI directly): one per process on a slot of its own, answering on
 * its socket, with its containers' cgroups and mounts its own; and nothing of
 * it left once stopped, whether by stopPrivateDockerd(), at a normal exit
 * with a container still running, or after a SIGKILL of its rigor (parent-death
 * SIGTERM, and the next daemon on the slot).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { descendants, readProcTable } from '../../../../base/proc-table.ts';
import { plainConnection, runEngineOrThrow } from '../../../../sandbox-core/backends/engines/engine.ts';
import { ensureAgentImage } from '../../../../sandbox-core/backends/engines/image.ts';
import { buildBusyboxRootfs } from '../../../../sandbox-core/images/busybox-rootfs.ts';
import {
  dockerdSlotPaths,
  privateDockerd,
  privateDockerdArgs,
  privateDockerdBlocker,
  privateDockerdConfig,
  stopPrivateDockerd,
} from '../../../../sandbox-core/backends/engines/private-dockerd.ts';

const fixture = fileURLToPath(new URL('./fixtures/private-dockerd.ts', import.meta.url));
const runs = privateDockerdBlocker() === null;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Live processes whose command line mentions the slot's run dir (dockerd, containerd, shims) or that are `pids`. */
function slotProcesses(dir: string, pids: number[] = []): string[] {
  return readProcTable()
    .filter((entry) => entry.state !== 'Z')
    .filter((entry) => pids.includes(entry.pid) || read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ').includes(`${dir}/`))
    .map((entry) => `${entry.pid} ${read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ')}`);
}

function mountsUnder(dir: string): string[] {
  return read('/proc/self/mountinfo').split('\n').filter((line) => line.split(' ')[4]?.startsWith(`${dir}/`));
}

describe('private dockerd paths and flags', () => {
  it('keeps every slot socket within the 108 bytes of a unix socket path', () => {
    for (const slot of [0, 31]) expect(dockerdSlotPaths(slot).socket.length).toBeLessThan(108);
  });

  it('starts dockerd without iptables or a bridge, on cgroupfs, userns-remapped, its paths the slot\'s', () => {
    const paths = dockerdSlotPaths(3);
    const args = privateDockerdArgs(paths);
    expect(args).toEqual(expect.arrayContaining(['--iptables=false', '--ip-masq=false', '--bridge=none', 'native.cgroupdriver=cgroupfs', '--userns-remap']));
    expect(args.slice(args.indexOf('--data-root'), args.indexOf('--data-root') + 2)).toEqual(['--data-root', '/var/cache/rigor/dockerd/3']);
    expect(args.slice(-2)).toEqual(['-H', 'unix:///run/rigor/dockerd/3/sock']);
    expect(args[args.indexOf('--cgroup-parent') + 1]).toBe('rigor-dockerd-3');
  });

  it('registers runsc (ptrace, no network of its own) only when it is there', () => {
    expect(privateDockerdConfig('/usr/bin/runsc')).toEqual({ runtimes: { runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--platform=ptrace', '--network=none', '--oci-seccomp'] } } });
    expect(privateDockerdConfig(null)).toEqual({});
  });
});

describe.skipIf(!runs)(`private dockerd on this host${runs ? '' : ' (skipped: not root, or no dockerd)'}`, () => {
  it('starts once per process on a slot locked by this pid, answers, and leaves nothing once stopped with a container running', async () => {
    const daemon = await privateDockerd();
    expect(await privateDockerd()).toBe(daemon);
    expect(read(daemon.paths.lock)).toBe(String(process.pid));
    const connection = { ...plainConnection('docker'), env: { DOCKER_HOST: daemon.host } };
    const image = await ensureAgentImage(connection, await buildBusyboxRootfs());
    expect(await runEngineOrThrow(connection, ['run', '--rm', '--network', 'none', image, 'echo', 'on the private engine'])).toBe('on the private engine');
    await runEngineOrThrow(connection, ['run', '--detach', '--network', 'none', image, 'sleep', '1000']);
    const containerd = Number(read(`${daemon.paths.execRoot}/containerd/containerd.pid`));
    expect(slotProcesses(daemon.paths.dir).length).toBeGreaterThanOrEqual(3); // dockerd, containerd, a shim
    expect(mountsUnder(daemon.paths.dataRoot).length).toBeGreaterThan(0); // the container's overlay
    await stopPrivateDockerd();
    expect(slotProcesses(daemon.paths.dir, [daemon.pid, containerd])).toEqual([]);
    expect(mountsUnder(daemon.paths.dataRoot)).toEqual([]);
    expect(mountsUnder(daemon.paths.dir)).toEqual([]);
    expect(existsSync(daemon.paths.dir)).toBe(false);
    expect(existsSync(daemon.paths.lock)).toBe(false);
    // the image stays in the data root for the next run
    expect(existsSync(daemon.paths.dataRoot)).toBe(true);
  }, 180_000);

  it('is stopped by a rigor that exits with a container still running, before the exit completes', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'exit'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const { dir, pids } = JSON.parse(out.split('\n')[0]!) as { dir: string; pids: number[] };
    expect(slotProcesses(dir, pids)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 180_000);

  it('stops itself when its rigor is SIGKILLed (parent-death SIGTERM); the next private dockerd on the slot reclaims whatever it left', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`the fixture exited with ${code}: ${out}`)));
    });
    const { dir, pids } = JSON.parse(line) as { dir: string; pids: number[] };
    child.kill('SIGKILL');
    // dockerd stops containerd and itself; wait for them by counting, up to 600 looks
    const daemonsLeft = () => slotProcesses(dir, pids).filter((entry) => pids.includes(Number(entry.split(' ')[0])));
    for (let look = 0; look < 600 && daemonsLeft().length > 0; look++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(daemonsLeft()).toEqual([]);
    // a shim whose container outlived the daemon's shutdown is the next daemon's to reclaim, when it takes the slot
    const next = await privateDockerd();
    try {
      // The lowest free slot is the dead one's, unless another rigor (a parallel test worker) took it over first:
      // either way whoever holds it now reclaimed it, and only that owner's dockerd and containerd live there.
      const owner = next.paths.dir === dir ? next.paths.execRoot : `${dir}/exec`;
      const ownerDockerd = next.paths.dir === dir ? next.pid : Number(read(`${dir}/dockerd.pid`));
      // The owner's daemons and what they run meanwhile (dockerd re-executes itself as netns-create while it starts).
      const table = readProcTable();
      const own = [ownerDockerd, Number(read(`${owner}/containerd/containerd.pid`))].flatMap((pid) => [pid, ...descendants(table, pid)]);
      expect(slotProcesses(dir).filter((entry) => !own.includes(Number(entry.split(' ')[0])))).toEqual([]);
    } finally {
      await stopPrivateDockerd();
    }
  }, 180_000);
});
