/**
 * The `docker` backend: the agent as the process of a Docker container
 * (engines/), run through the docker CLI. Used when a Docker engine answers;
 * this host has the CLI and no daemon, so here it reports why it cannot run.
 */
import { EngineBackend } from './engines/backend.ts';
import type { Engine } from './engines/engine.ts';

export const dockerEngine: Engine = {
  cli: 'docker',
  install: 'install Docker Engine: https://docs.docker.com/engine/install/',
  probe: ['version', '--format', '{{.Server.Version}}'],
  probeFailure: 'docker CLI present but no engine answers',
  // docker's CLI prints memory only as a rounded size ("1.52MiB / 7.63GiB"); no byte count is exposed
  statsFormat: '{{.MemUsage}}\t{{.PIDs}}',
  statsMemory: "docker stats MemUsage: the container's memory cgroup usage less inactive file cache, as the engine computes it (not PSS; 4 significant digits; the CLI and containerd-shim not included)",
};

export const dockerBackend = new EngineBackend(dockerEngine);
