/**
 * The engine connector `engine.cycle` registers with: the docker and podman
 * backends of sandbox-core, so the commands it times reach the engine the
 * backends use (the user's, or a private dockerd as root; podman with its
 * cgroupfs, rlimit and uid-map flags), run the image they import from the
 * project's rootfs, and choose runsc the way they do. Their availability
 * check (the engine answers and a container of the image starts under the
 * runtime) is the cell's skip reason.
 */
import { which } from '../../../base/which.ts';
import { dockerBackend } from '../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../sandbox-core/backends/engines/backend.ts';
import { podmanBackend } from '../../../sandbox-core/backends/podman.ts';
import type { EngineConnector, EngineName, OpenedEngine, RuntimeName } from './connection.ts';

const BACKENDS: Record<EngineName, EngineBackend> = { docker: dockerBackend, podman: podmanBackend };

function backendOf(engine: EngineName, runtime: RuntimeName): EngineBackend {
  return BACKENDS[engine].variant({ runtime }) as EngineBackend;
}

export const backendConnector: EngineConnector = {
  async skipReason(engine: EngineName, runtime: RuntimeName) {
    const availability = await backendOf(engine, runtime).available();
    return availability.ok ? null : `${engine} (runtime ${runtime}) unavailable: ${availability.reason}`;
  },

  async open(engine: EngineName, runtime: RuntimeName): Promise<OpenedEngine> {
    const backend = backendOf(engine, runtime);
    const { connection, runtime: chosen, facts } = await backend.setup();
    const cli = which(connection.cli);
    if (!cli) throw new Error(`${connection.cli} not on PATH (${backend.engine.install})`);
    const image = await backend.image();
    // podman's --runtime and --runtime-flag are global flags that last one invocation: a container created under
    // runsc is started, exec'd, stopped and removed without its flags (platform, network=none) unless each command
    // repeats them. docker's --runtime is an option of run and create, remembered by the daemon.
    const perCommand = engine === 'podman';
    return {
      cli: {
        cli,
        env: connection.env,
        globalArgs: perCommand ? [...connection.globalArgs, ...chosen.args] : connection.globalArgs,
        runArgs: connection.runArgs,
        runtimeArgs: perCommand ? [] : chosen.args,
        image,
      },
      facts: { ...facts, image },
    };
  },
};
