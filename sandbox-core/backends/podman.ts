/**
 * The `podman` backend: the agent as the process of a rootful Podman
 * container (engines/), run through the podman CLI with the flags a host
 * without systemd needs: global `--cgroup-manager cgroupfs --events-backend
 * file`, and on every run `--ulimit nofile=1024:1024 --ulimit nproc=1024:1024`
 * (without them runc fails "error setting rlimit type 7: operation not permitted").
 *
 * User namespace: every container maps 0-65535 onto one fixed rigor range
 * (PODMAN_UID_BASE), so root inside is not host root. Not the sandbox's own
 * uid pair of isolation/host-ids.ts, as runc has: podman 4.3 here cannot
 * mount the image for a sparse per-container map (its idmapped overlay fails
 * "permission denied") and leaves a chowned copy of the image layer per
 * mapping in its storage; one fixed range shares one mapped layer. The cost:
 * commands of concurrent podman sandboxes share a host uid (PODMAN_UID_BASE +
 * 1000), separated by their pid, mount and ipc namespaces.
 *
 * The runtime option runs containers under gVisor: `--runtime <runsc path>
 * --runtime-flag platform=ptrace`.
 */
import { which } from '../../base/which.ts';
import { EngineBackend } from './engines/backend.ts';
import { plainConnection, type Engine, type EngineConnection } from './engines/engine.ts';
import { podmanInfo, type EngineRuntime } from './engines/facts.ts';
import { RUNSC_FLAGS, RUNSC_PLATFORM } from './engines/private-dockerd.ts';

/** Host uid (= gid) of root in every podman container; below HOST_ID_BASE's pairs, far above /etc/subuid's ranges. */
export const PODMAN_UID_BASE = 1_400_000_000;
const PODMAN_UID_SIZE = 65536;

export const PODMAN_GLOBAL_ARGS = ['--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const USERNS_ARGS = ['--uidmap', `0:${PODMAN_UID_BASE}:${PODMAN_UID_SIZE}`, '--gidmap', `0:${PODMAN_UID_BASE}:${PODMAN_UID_SIZE}`];
export const PODMAN_RUN_ARGS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', ...USERNS_ARGS];

export async function connectPodman(): Promise<EngineConnection> {
  return { ...plainConnection('podman'), globalArgs: PODMAN_GLOBAL_ARGS, runArgs: PODMAN_RUN_ARGS, removeArgs: ['rm', '--force', '--time', '0'], runcState: { root: '/run/runc', rootHostId: PODMAN_UID_BASE }, userns: `uidmap 0:${PODMAN_UID_BASE}:${PODMAN_UID_SIZE}` };
}

export const podmanEngine: Engine = {
  cli: 'podman',
  install: 'apt-get install podman',
  probe: ['info', '--format', '{{.Version.Version}}'],
  probeFailure: 'podman present but `podman info` failed',
  connect: connectPodman,
  tmpfsUid: false,
  info: ['info', '--format', 'json'],
  parseInfo: podmanInfo,
  runtimeArgs(runtime: EngineRuntime) {
    if (runtime === 'runc') return { args: [] };
    const runsc = which('runsc');
    if (!runsc) throw new Error('runsc not on PATH (apt-get install runsc)');
    return { args: ['--runtime', runsc, ...RUNSC_FLAGS.flatMap((flag) => ['--runtime-flag', flag.slice(2)])], platform: RUNSC_PLATFORM };
  },
};

export const podmanBackend = new EngineBackend(podmanEngine);
