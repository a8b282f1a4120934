/**
 * Runs one command in a minimal runc container: a temp rootfs of mount points
 * and merged-/usr links with the host's /usr bound read-only (so the host's
 * python3 and util-linux run inside), no capability, no_new_privs, and the
 * given `linux.seccomp`. The container, its state and its temp dir are gone
 * when the returned promise settles, whatever happened.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { OciSeccomp } from '../../../sandbox-core/seccomp/index.ts';

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Host directories bound read-only into the container: <source> at <destination>. */
export type Binds = Record<string, string>;

export async function runInRunc(argv: string[], seccomp: OciSeccomp | undefined, binds: Binds = {}): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'rigor-seccomp-runc-'));
  // not rigor-runc-<pid>-: the runc backend's stale sweep must not take it for a dead sandbox's
  const id = `rigor-seccomp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const state = join(dir, 'state');
  try {
    const rootfs = join(dir, 'bundle', 'rootfs');
    for (const point of ['usr', 'proc', 'dev', 'tmp', 'etc', ...Object.values(binds)]) await mkdir(join(rootfs, point), { recursive: true });
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${link}`, join(rootfs, link));
    const bind = (source: string, destination: string) => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'] });
    const none: string[] = [];
    const config = {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid: 0, gid: 0 },
        args: argv,
        env: ['PATH=/usr/bin:/usr/sbin', 'HOME=/tmp'],
        cwd: '/tmp',
        capabilities: { bounding: none, effective: none, permitted: none, inheritable: none, ambient: none },
        noNewPrivileges: true,
      },
      root: { path: rootfs, readonly: true },
      hostname: 'seccomp',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=1024k'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=16384k'] },
        bind('/usr', '/usr'),
        ...Object.entries(binds).map(([source, destination]) => bind(source, destination)),
      ],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }],
        cgroupsPath: id,
        ...(seccomp ? { seccomp } : {}),
      },
    };
    await writeFile(join(dir, 'bundle', 'config.json'), JSON.stringify(config));
    const result = await execa('runc', ['--root', state, 'run', '--bundle', join(dir, 'bundle'), id], { reject: false, stdin: 'ignore', timeout: 30_000 });
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  } finally {
    // runc run deletes a container that exited; one left by a failed or killed run is deleted here
    await execa('runc', ['--root', state, 'delete', '--force', id], { reject: false, stdin: 'ignore' });
    await rm(dir, { recursive: true, force: true });
  }
}
