/**
 * A backend over a container engine's CLI (docker, podman): available when
 * the engine answers, the project's busybox rootfs imported once as the image,
 * stale containers of dead rigor processes removed before the first create.
 */
import { posix } from 'node:path';
import { buildBusyboxRootfs, type RootfsOptions } from '../../images/busybox-rootfs.ts';
import { cacheUntilFailure } from '../cache-until-failure.ts';
import { DEFAULT_PIDS_LIMIT } from '../runc/oci-config.ts';
import type { Backend, Sandbox, SandboxSpec } from '../types.ts';
import type { Engine } from './engine.ts';
import { ensureAgentImage } from './image.ts';
import { probeEngine, type Availability } from './probe.ts';
import { EngineSandbox } from './sandbox.ts';
import { sweepStaleContainers } from './stale.ts';

/** The smallest memory limit docker accepts. */
const MIN_MEMORY_MIB = 6;

export interface EngineBackendOptions {
  rootfs?: RootfsOptions;
  /** pids limit of every container (default DEFAULT_PIDS_LIMIT). */
  pidsLimit?: number;
}

export class EngineBackend implements Backend {
  readonly name: string;
  #probe: Promise<Availability> | undefined;
  #swept: Promise<unknown> | undefined;

  constructor(
    readonly engine: Engine,
    private readonly options: EngineBackendOptions = {},
  ) {
    this.name = engine.cli;
  }

  available(): Promise<Availability> {
    this.#probe ??= probeEngine(this.engine, { busyboxPath: this.options.rootfs?.busyboxPath });
    return this.#probe;
  }

  /** The image tag every container runs, built and imported once per process (a failure is retried). */
  readonly image = cacheUntilFailure(() => buildBusyboxRootfs(this.options.rootfs).then((rootfs) => ensureAgentImage(this.engine.cli, rootfs)));

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    checkEngineSpec(this.name, spec);
    // leftovers are worth one try per process; failing to sweep them must not stop a create
    this.#swept ??= sweepStaleContainers(this.engine.cli).catch(() => []);
    await this.#swept;
    const pidsLimit = this.options.pidsLimit ?? DEFAULT_PIDS_LIMIT;
    return EngineSandbox.create(this.engine, spec, { image: () => this.image(), pidsLimit }, options.signal);
  }
}

/** Mistakes in the spec, before anything is made. */
function checkEngineSpec(backend: string, spec: SandboxSpec): void {
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: ${backend} supports only "none", found ${JSON.stringify(spec.network)}`);
  if (spec.agent === 'node') throw new Error(`spec.agent: the ${backend} image holds only the native agent (no node), found "node"`);
  if (spec.memoryMiB !== undefined && !(Number.isInteger(spec.memoryMiB) && spec.memoryMiB >= MIN_MEMORY_MIB)) {
    throw new Error(`spec.memoryMiB: expected a whole number of MiB, at least ${MIN_MEMORY_MIB}, found ${spec.memoryMiB}`);
  }
  const workspace = spec.workspacePath;
  if (workspace !== undefined && (!workspace.startsWith('/') || posix.normalize(workspace) !== workspace || workspace === '/')) {
    throw new Error(`spec.workspacePath: expected an absolute, normalized path other than /, found ${JSON.stringify(workspace)}`);
  }
}
