/**
 * A backend over a container engine's CLI (docker, podman): available when
 * the engine answers and a container of the image actually starts (with the
 * runtime asked for), the project's busybox rootfs imported once as the image,
 * stale containers of dead rigor processes removed before the first create.
 * The variant option `runtime` ('runc', the default, or 'runsc') picks the
 * OCI runtime under the engine.
 */
import { writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { cacheEntryPath, defaultCacheRoot, ensureCached } from '../../../base/cache.ts';
import { which } from '../../../base/which.ts';
import { AGENT_IN_ROOTFS, buildBusyboxRootfs, type RootfsOptions } from '../../images/busybox-rootfs.ts';
import { capabilityNumbers } from '../../isolation/capabilities.ts';
import { INSIDE_COMMAND_ID } from '../../isolation/host-ids.ts';
import { limitsOf, type Limits } from '../../isolation/limits.ts';
import { ociSeccomp, seccompProfile } from '../../seccomp/profile.ts';
import { cacheUntilFailure } from '../cache-until-failure.ts';
import { agentRelays, withEgressEnv } from '../egress-env.ts';
import type { Backend, Sandbox, SandboxSpec } from '../types.ts';
import { firstLine, runEngine, type Engine, type EngineConnection, type RuntimeChoice } from './engine.ts';
import { engineFacts, type EngineFacts, type EngineInfo, type EngineRuntime } from './facts.ts';
import { ensureAgentImage } from './image.ts';
import { probeEngine, type Availability } from './probe.ts';
import { EngineSandbox } from './sandbox.ts';
import { sweepStaleContainers } from './stale.ts';

/** The smallest memory limit docker accepts. */
const MIN_MEMORY_MIB = 6;
/** Where the egress sockets are bound inside: the container's private /tmp tmpfs takes the mount points (the image's root is read-only). */
const EGRESS_SOCKET_DIR = '/tmp';
const RUNTIMES: readonly EngineRuntime[] = ['runc', 'runsc'];
/** What `seccomp` says in isolation facts when the spec asked for no filter. */
const UNCONFINED = 'unconfined';
/** What `seccomp` says under runsc: the profile, applied by gVisor's Sentry to the commands' calls (RUNSC_FLAGS' --oci-seccomp). */
const bySentry = (name: string) => `${name}, applied by gVisor's Sentry`;

export interface EngineBackendOptions {
  rootfs?: RootfsOptions;
  /** pids limit of a container whose spec sets none (default DEFAULT_LIMITS.pids). */
  pidsLimit?: number;
  /** OCI runtime under the engine (default runc). */
  runtime?: EngineRuntime;
}

/** The connection and `info` of one engine, resolved once per process for every variant of a backend. */
interface Connected {
  connection: EngineConnection;
  info: EngineInfo | undefined;
  infoError?: string;
}

export class EngineBackend implements Backend {
  readonly name: string;
  readonly variantOptions = ['runtime'] as const;
  readonly #variants = new Map<EngineRuntime, EngineBackend>();
  #probe: Promise<Availability> | undefined;
  #swept: Promise<unknown> | undefined;
  readonly #connected: () => Promise<Connected>;

  constructor(
    readonly engine: Engine,
    private readonly options: EngineBackendOptions = {},
    connected?: () => Promise<Connected>,
  ) {
    this.name = engine.cli;
    this.#connected = connected ?? cacheUntilFailure(() => connect(engine));
  }

  get runtime(): EngineRuntime {
    return this.options.runtime ?? 'runc';
  }

  variantProblems(options: Record<string, unknown>): string[] {
    const { runtime } = options;
    if (runtime !== undefined && !RUNTIMES.includes(runtime as EngineRuntime)) return [`runtime: expected one of ${RUNTIMES.join(', ')}, found ${JSON.stringify(runtime)}`];
    return [];
  }

  /** This engine under another runtime; the same runtime gives the same backend, sharing its connection. */
  variant(options: Record<string, unknown>): Backend {
    const runtime = (options.runtime as EngineRuntime | undefined) ?? 'runc';
    if (runtime === this.runtime) return this;
    let backend = this.#variants.get(runtime);
    if (!backend) this.#variants.set(runtime, (backend = new EngineBackend(this.engine, { ...this.options, runtime }, this.#connected)));
    return backend;
  }

  /** The connection (a private dockerd started on first use), for tests and tools. */
  async connection(): Promise<EngineConnection> {
    return (await this.#connected()).connection;
  }

  available(): Promise<Availability> {
    this.#probe ??= this.#checkAvailable();
    return this.#probe;
  }

  async #checkAvailable(): Promise<Availability> {
    if (!which(this.engine.cli)) return { ok: false, reason: `${this.engine.cli} not on PATH (${this.engine.install})` };
    const { connection, info, infoError } = await this.#connected();
    const probed = await probeEngine(this.engine, { busyboxPath: this.options.rootfs?.busyboxPath, connection });
    if (!probed.ok) return probed;
    if (!info) return { ok: false, reason: `${this.engine.cli} info failed: ${infoError}` };
    let runtime: RuntimeChoice;
    try {
      runtime = this.engine.runtimeArgs(this.runtime, info);
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    // `info` answering does not prove that a container starts (cgroups, rlimits, a runtime that does not run here)
    let image: string;
    try {
      image = await this.image();
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    const started = await runEngine(connection, ['run', '--rm', '--network', 'none', '--pull', 'never', ...connection.runArgs, ...runtime.args, image, '/bin/true'], 120_000);
    if (!started.ok) return { ok: false, reason: `${this.engine.cli} answers but no container starts (runtime ${this.runtime}): ${firstLine(started.stderr) || 'no message'}` };
    return { ok: true };
  }

  /** The image tag every container runs, built and imported once per process (a failure is retried). */
  readonly image = cacheUntilFailure(async () => {
    const { connection } = await this.#connected();
    return ensureAgentImage(connection, await buildBusyboxRootfs(this.options.rootfs));
  });

  /**
   * What every container of this backend runs under, resolved once per process: the engine's connection, the
   * runtime's flags and the facts an artifact records of both. Throws when the engine cannot be used. Also what
   * the engine.cycle workload times bare engine commands with, so its cells and the backend's say the same.
   */
  async setup(): Promise<{ connection: EngineConnection; runtime: RuntimeChoice; facts: EngineFacts }> {
    const { connection, info, infoError } = await this.#connected();
    if (connection.unavailable) throw new Error(`${this.name}: ${connection.unavailable}`);
    if (!info) throw new Error(`${this.name}: ${this.engine.cli} info failed: ${infoError}`);
    const runtime = this.engine.runtimeArgs(this.runtime, info);
    const facts = engineFacts(connection, info, {
      runtime: this.runtime,
      platform: runtime.platform,
      userns: connection.userns ?? (info.remapped ? 'remap' : 'host'),
      flags: [...connection.daemonFlags, ...connection.globalArgs, ...connection.runArgs, ...runtime.args],
    });
    return { connection, runtime, facts };
  }

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const t0 = performance.now();
    const limits = checkEngineSpec(this.name, spec, this.options.pidsLimit);
    const profile = spec.seccomp === 'unconfined' ? undefined : seccompProfile({ allowSyscalls: spec.allowSyscalls });
    const { connection, runtime, facts } = await this.setup();
    if (spec.egress && this.runtime === 'runsc') {
      // the engine's runsc is registered without --host-uds, so its gofer could not connect the bound sockets
      throw new Error(`spec.egress: ${this.name} with runtime runsc has no egress path (its runsc may not connect host sockets); the gvisor backend has one`);
    }
    // egress: the agent relays the container's own 127.0.0.1:3128 (and :1053) to the host's sockets, bound under its /tmp tmpfs
    const relays = spec.egress ? await agentRelays(spec.egress, this.engine.cli as 'docker' | 'podman', EGRESS_SOCKET_DIR) : undefined;
    // leftovers are worth one try per process; failing to sweep them must not stop a create
    this.#swept ??= sweepStaleContainers(connection).catch(() => []);
    await this.#swept;
    const seccompFile = profile ? await seccompProfileFile(JSON.stringify(ociSeccomp(profile))) : UNCONFINED;
    return EngineSandbox.create(
      connection,
      withEgressEnv(spec, this.engine.cli as 'docker' | 'podman'),
      {
        image: () => this.image(),
        limits,
        runArgs: [...connection.runArgs, ...runtime.args],
        seccomp: { file: seccompFile, name: this.runtime === 'runsc' && profile ? bySentry(profile.name) : (profile?.name ?? UNCONFINED) },
        facts,
        // Under runsc (2022) the agent's setfsuid does not switch who its file requests act as: they stay root without
        // CAP_DAC_OVERRIDE, which a 0755 workspace of the command user refuses; there the workspace is 1777, as on podman.
        workspaceUid: this.engine.tmpfsUid && this.runtime === 'runc' ? INSIDE_COMMAND_ID : undefined,
        command: [AGENT_IN_ROOTFS, '--init', '--exec-user', `${INSIDE_COMMAND_ID}:${INSIDE_COMMAND_ID}`, ...execCaps(spec.capabilities ?? []), ...(relays?.agentArgs ?? [])],
        socketBinds: relays?.binds,
      },
      options.signal,
      t0,
    );
  }
}

/** The engine's connection and its `info`, once. */
async function connect(engine: Engine): Promise<Connected> {
  const connection = await engine.connect();
  if (connection.unavailable || !which(engine.cli)) return { connection, info: undefined, infoError: connection.unavailable ?? 'not on PATH' };
  const outcome = await runEngine(connection, engine.info, 30_000);
  if (!outcome.ok) return { connection, info: undefined, infoError: firstLine(outcome.stderr) };
  try {
    return { connection, info: engine.parseInfo(JSON.parse(outcome.stdout) as Record<string, unknown>) };
  } catch (error) {
    return { connection, info: undefined, infoError: `unreadable JSON: ${(error as Error).message}` };
  }
}

/** The agent's --exec-caps for the granted capabilities (capability numbers). */
function execCaps(capabilities: string[]): string[] {
  if (capabilities.length === 0) return [];
  return ['--exec-caps', capabilityNumbers(capabilities).join(',')];
}

/** rigor's seccomp profile as a file the engine CLI reads (docker and podman take the OCI form), cached by content. */
async function seccompProfileFile(json: string): Promise<string> {
  const path = cacheEntryPath(defaultCacheRoot(), 'engine-seccomp', [json], 'seccomp.json');
  await ensureCached(path, (temp) => writeFile(temp, json));
  return path;
}

/** Mistakes in the spec, before anything is made; the limits the container gets. */
function checkEngineSpec(backend: string, spec: SandboxSpec, backendPidsLimit: number | undefined): Limits {
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: ${backend} supports only "none", found ${JSON.stringify(spec.network)}`);
  if (spec.agent === 'node') throw new Error(`spec.agent: the ${backend} image holds only the native agent (no node), found "node"`);
  if (spec.seccomp !== undefined && spec.seccomp !== 'default' && spec.seccomp !== 'unconfined') {
    throw new Error(`spec.seccomp: expected "default" or "unconfined", found ${JSON.stringify(spec.seccomp)}`);
  }
  const limits = limitsOf({ ...spec, pidsLimit: spec.pidsLimit ?? backendPidsLimit });
  if (limits.memoryMiB < MIN_MEMORY_MIB) throw new Error(`spec.memoryMiB: ${backend} needs at least ${MIN_MEMORY_MIB} MiB, found ${limits.memoryMiB}`);
  const workspace = spec.workspacePath;
  if (workspace !== undefined && (!workspace.startsWith('/') || posix.normalize(workspace) !== workspace || workspace === '/')) {
    throw new Error(`spec.workspacePath: expected an absolute, normalized path other than /, found ${JSON.stringify(workspace)}`);
  }
  return limits;
}
