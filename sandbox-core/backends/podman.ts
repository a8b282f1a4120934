/**
 * The `podman` backend: the agent as the process of a Podman container
 * (engines/), run through the podman CLI, rootful or rootless. Used when
 * `podman info` works; podman is not installed on this host.
 */
import { EngineBackend } from './engines/backend.ts';
import type { Engine } from './engines/engine.ts';

export const podmanEngine: Engine = {
  cli: 'podman',
  install: 'apt-get install podman',
  probe: ['info', '--format', '{{.Version.Version}}'],
  probeFailure: 'podman present but `podman info` failed',
  // podman's template reaches the raw counters behind its rounded MemUsage column
  statsFormat: '{{.ContainerStats.MemUsage}}\t{{.ContainerStats.PIDs}}',
  statsMemory: "podman stats MemUsage: the container's memory cgroup usage as the engine reads it (not PSS; conmon not included)",
};

export const podmanBackend = new EngineBackend(podmanEngine);
