/**
 * The engine connector `engine.cycle` registers with: the docker and podman
 * backends of sandbox-core (their availability probe and their image, the
 * project's rootfs imported once), the CLI talking to whatever engine its own
 * configuration names (DOCKER_HOST or the default socket; podman's own).
 */
import { which } from '../../../base/which.ts';
import { dockerBackend } from '../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../sandbox-core/backends/engines/backend.ts';
import { podmanBackend } from '../../../sandbox-core/backends/podman.ts';
import type { EngineConnector, EngineName, RuntimeName } from './connection.ts';

const BACKENDS: Record<EngineName, EngineBackend> = { docker: dockerBackend, podman: podmanBackend };

/** Why gVisor under an engine cannot run through this connector. */
const NO_RUNSC = 'runtime runsc under an engine needs the engines connection (runsc registered with the engine), which this build does not have';

export const backendConnector: EngineConnector = {
  async skipReason(engine: EngineName, runtime: RuntimeName) {
    const availability = await BACKENDS[engine].available();
    if (!availability.ok) return `${engine} unavailable: ${availability.reason}`;
    return runtime === 'runc' ? null : NO_RUNSC;
  },

  async open(engine: EngineName, runtime: RuntimeName) {
    if (runtime !== 'runc') throw new Error(NO_RUNSC);
    const cli = which(engine);
    if (!cli) throw new Error(`${engine} not on PATH`);
    const image = await BACKENDS[engine].image();
    return {
      cli: { cli, env: {}, globalArgs: [], runArgs: [], runtimeArgs: [], image },
      facts: { cli: engine, managed: 'user', runtime, flags: [], image },
    };
  },
};
