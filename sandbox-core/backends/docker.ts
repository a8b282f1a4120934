/**
 * The `docker` backend: the agent as the process of a Docker container
 * (engines/), run through the docker CLI. Which engine (once per process):
 *
 * - the user's, when `DOCKER_HOST` is set (used as it is, answering or not:
 *   the user chose it) or the default socket /var/run/docker.sock answers;
 * - otherwise, for a root rigor with dockerd on PATH, a private dockerd of
 *   its own (engines/private-dockerd.ts: userns-remap, cgroupfs, no iptables
 *   and no bridge, runsc registered), started on first use and stopped when
 *   the process ends;
 * - otherwise none, and available() says why.
 *
 * The runtime option runs containers under runsc (`--runtime runsc`): the
 * private daemon registers it; a user engine must have it in `docker info`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineBackend } from './engines/backend.ts';
import { plainConnection, runEngine, type Engine, type EngineConnection } from './engines/engine.ts';
import { dockerInfo, type EngineInfo, type EngineRuntime } from './engines/facts.ts';
import { privateDockerd, privateDockerdBlocker, RUNSC_PLATFORM, RUNSC_RUNTIME } from './engines/private-dockerd.ts';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const PROBE = ['version', '--format', '{{.Server.Version}}'];

/** The engine to use, as the header says. */
export async function connectDocker(): Promise<EngineConnection> {
  const user = plainConnection('docker');
  if (process.env.DOCKER_HOST) return user;
  if (existsSync(DEFAULT_SOCKET) && (await runEngine(user, PROBE, 5000)).ok) return user;
  const blocker = privateDockerdBlocker();
  if (blocker) return { ...user, unavailable: `docker CLI present but no engine answers (${DEFAULT_SOCKET}, no DOCKER_HOST); ${blocker}` };
  try {
    const daemon = await privateDockerd();
    return {
      ...user,
      env: { DOCKER_HOST: daemon.host },
      managed: 'private',
      daemonFlags: daemon.flags,
      daemonPids: () => [daemon.pid, readPid(join(daemon.paths.execRoot, 'containerd', 'containerd.pid'))].filter((pid): pid is number => pid !== undefined && existsSync(`/proc/${pid}`)),
    };
  } catch (error) {
    return { ...user, unavailable: (error as Error).message };
  }
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export const dockerEngine: Engine = {
  cli: 'docker',
  install: 'apt-get install docker.io, or Docker Engine: https://docs.docker.com/engine/install/',
  probe: PROBE,
  probeFailure: 'docker CLI present but no engine answers',
  connect: connectDocker,
  tmpfsUid: true,
  info: ['info', '--format', '{{json .}}'],
  parseInfo: dockerInfo,
  runtimeArgs(runtime: EngineRuntime, info: EngineInfo) {
    if (runtime === 'runc') return { args: [] };
    if (!info.runtimes.includes(RUNSC_RUNTIME)) {
      throw new Error(`the docker engine has no runsc runtime (it knows ${info.runtimes.join(', ') || 'none'}); rigor's private dockerd registers it when runsc is on PATH (apt-get install runsc)`);
    }
    return { args: ['--runtime', RUNSC_RUNTIME], platform: RUNSC_PLATFORM };
  },
};

export const dockerBackend = new EngineBackend(dockerEngine);
