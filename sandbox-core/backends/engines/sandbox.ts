/**
 * One engine container whose process is the agent, talking over the stdio of
 * an attached `<engine> run --interactive` (the engine relays the container's
 * stdin and stdout through the CLI). Launch, HELLO, PONG, exec and files are
 * ChildSandbox's; what differs is that the processes belong to the engine,
 * not to us: pause is `<engine> pause` (its freezer), memory is read from the
 * container's cgroup and the engine's per-container processes, and teardown
 * ends with `<engine> rm --force`.
 *
 * The CLI runs under `setpriv --pdeathsig KILL`: when rigor is SIGKILLed the
 * CLI dies, the engine closes the container's stdin (-i attached sets
 * StdinOnce), the agent exits at end of stream, and the stopped container
 * left behind is removed by the next create() (stale.ts).
 */
import { readFileSync } from 'node:fs';
import { cgroupDirsFor, cgroupProcs, dirOf, freezeCgroup, thawCgroup, type CgroupDir } from '../../../base/cgroups.ts';
import { readProcTable } from '../../../base/proc-table.ts';
import { signalQuietly } from '../../../base/signal.ts';
import { DEFAULT_PATH } from '../../default-path.ts';
import { limitEvents } from '../../isolation/cgroup-limits.ts';
import { INSIDE_COMMAND_ID } from '../../isolation/host-ids.ts';
import type { Limits } from '../../isolation/limits.ts';
import { SANDBOX_ID_ENV } from '../agent-sandbox.ts';
import { ChildSandbox, type ChildLaunch } from '../child-sandbox.ts';
import { memoryOf } from '../memory.ts';
import type { IsolationFacts, SandboxSpec, SandboxStats } from '../types.ts';
import { cliArgs, connectionEnv, firstLine, removeContainerSync, runEngine, runEngineOrThrow, type EngineConnection } from './engine.ts';
import type { EngineFacts } from './facts.ts';
import { engineRunArgs } from './run-args.ts';

const DEFAULT_WORKSPACE = '/workspace';
/** How docker and podman say that `rm --force` found nothing to remove. */
const NOT_FOUND = /no such container|no container with name or id/i;
/** `rm --force` tries before a teardown fails. */
const RM_ATTEMPTS = 3;
/** Looks, 10 ms apart, for the container's shim or conmon to exit after its container was removed. */
const MONITOR_EXIT_LOOKS = 500;

export interface EngineSandboxOptions {
  /** The image tag to run, imported on first use. */
  image: () => Promise<string>;
  limits: Limits;
  /** The engine's and the runtime's run flags. */
  runArgs: string[];
  /** The profile file given to the engine ('unconfined' for none) and its name for the isolation facts. */
  seccomp: { file: string; name: string };
  facts: EngineFacts;
  /** What the engine's own memory figure would be; kept for the method text. */
  /** The agent's command line inside the image. */
  command: string[];
  /** Owner of the workspace tmpfs inside, when the engine can set one. */
  workspaceUid?: number;
  /** The egress sockets bound in (egress-env.ts agentRelays); their --forward arguments are in `command`. */
  socketBinds?: Array<{ hostPath: string; sandboxPath: string }>;
}

/** The container's name is the sandbox id. */
export class EngineSandbox extends ChildSandbox {
  #enginePaused = false;
  #removal: Promise<void> | undefined;
  /** Host pid of the container's first process (the agent, or runsc's sandbox), from `inspect` once ready. */
  #containerPid: number | undefined;
  #cgroups: CgroupDir[] = [];
  #commandHostUid: number | 'guest' | undefined;
  /** The engine's per-container process (containerd-shim, conmon) and the container id it names. */
  #monitor: { pid: number; id: string } | undefined;
  /** The container's full id, when it was made but never inspected (a failed create). */
  #fullId: string | undefined;

  private constructor(
    private readonly connection: EngineConnection,
    spec: SandboxSpec,
    private readonly options: EngineSandboxOptions,
  ) {
    super(connection.cli, spec);
    // the last resort runs after the CLI was SIGKILLed: the container itself is the engine's to kill
    this.resources.lastResort.push(() => removeContainerSync(connection, this.id));
  }

  static async create(connection: EngineConnection, spec: SandboxSpec, options: EngineSandboxOptions, signal?: AbortSignal, t0?: number): Promise<EngineSandbox> {
    const sandbox = await new EngineSandbox(connection, spec, options).start(signal, t0);
    try {
      await sandbox.#inspect();
    } catch (error) {
      await sandbox.destroy().catch(() => undefined);
      throw error;
    }
    return sandbox;
  }

  /** What the engine ran and how (facts.engine), for the artifact. */
  get facts(): Record<string, unknown> {
    return { engine: this.options.facts };
  }

  /** What confines the commands, as artifacts record it; the host uid is read from the container's uid_map. */
  get isolation(): IsolationFacts | undefined {
    if (this.#commandHostUid === undefined) return undefined;
    const { pids, memoryMiB, workspaceMiB } = this.options.limits;
    return { seccomp: this.options.seccomp.name, commandUid: INSIDE_COMMAND_ID, commandHostUid: this.#commandHostUid, limits: { pids, memoryMiB, workspaceMiB } };
  }

  protected async plan(): Promise<ChildLaunch> {
    const image = await this.options.image();
    const { limits } = this.options;
    const args = engineRunArgs({
      name: this.id,
      image,
      owner: process.pid,
      workspacePath: this.spec.workspacePath ?? DEFAULT_WORKSPACE,
      workspaceMiB: limits.workspaceMiB,
      workspaceUid: this.options.workspaceUid,
      capabilities: this.spec.capabilities ?? [],
      memoryMiB: limits.memoryMiB,
      pidsLimit: limits.pids,
      seccomp: this.options.seccomp.file,
      env: { PATH: DEFAULT_PATH, HOME: '/root' },
      engineArgs: this.options.runArgs,
      command: this.options.command,
      socketBinds: this.options.socketBinds,
    });
    return {
      command: 'setpriv',
      args: ['--pdeathsig', 'KILL', '--', this.connection.cli, ...cliArgs(this.connection, args)],
      env: { ...connectionEnv(this.connection), [SANDBOX_ID_ENV]: this.id },
    };
  }

  /** The container's host pid, cgroups and the host uid its commands run as. */
  async #inspect(): Promise<void> {
    const [fullId, pidText] = (await runEngineOrThrow(this.connection, ['inspect', '--format', '{{.Id}} {{.State.Pid}}', this.id])).split(' ');
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${this.id}: ${this.connection.cli} inspect gave no pid for the running container`);
    this.#containerPid = pid;
    const monitor = readProcTable().find((entry) => entry.pid === pid)?.ppid;
    // the shim or conmon names the container's full id on its command line
    if (monitor !== undefined && monitor > 1 && fullId && cmdlineOf(monitor).includes(fullId)) this.#monitor = { pid: monitor, id: fullId };
    this.#cgroups = cgroupDirsFor('', readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    // under runsc the commands are threads of gVisor's own kernel (the Sentry, the pid inspect gives), not host processes
    this.#commandHostUid = this.options.facts.runtime === 'runsc' ? 'guest' : hostIdOf(readFileSync(`/proc/${pid}/uid_map`, 'utf8'), INSIDE_COMMAND_ID);
  }

  protected terminate(): void {
    // the CLI exits once the container is gone; a failure is thrown by destroy(), which awaits this later
    this.#removal ??= this.#removeContainer();
    this.#removal.catch(() => undefined);
  }

  /**
   * Freeze the container; the agent answers nothing until resume(). Under runc, through its freezer cgroup
   * directly, as `<engine> pause` would have runc do, without the CLI and daemon round trip (tens of ms on
   * two cores); the engine is not told, so nothing but this sandbox may act on the container meanwhile, and
   * removal thaws it first. Under runsc, the engine's own pause: a frozen gVisor does not take a kill.
   */
  protected override async pauseProcesses(): Promise<void> {
    if (this.#enginePaused) return;
    const freezer = this.#freezer();
    if (freezer) await freezeCgroup(freezer);
    else await runEngineOrThrow(this.connection, ['pause', this.id]);
    this.#enginePaused = true;
  }

  protected override async resumeProcesses(): Promise<void> {
    if (!this.#enginePaused) return;
    await this.#thaw();
    this.#enginePaused = false;
  }

  /** The container's freezer cgroup (v1; the unified one on v2) when rigor freezes it itself: under runc only. */
  #freezer(): string | undefined {
    if (this.options.facts.runtime !== 'runc') return undefined;
    return dirOf(this.#cgroups, 'freezer') ?? dirOf(this.#cgroups, '');
  }

  async #thaw(): Promise<void> {
    const freezer = this.#freezer();
    if (freezer) thawCgroup(freezer);
    else await runEngineOrThrow(this.connection, ['unpause', this.id]);
  }

  /** Host pids in the container's pids cgroup: its processes (under runsc, gVisor's Sentry and gofer). */
  containerPids(): number[] {
    const pidsDir = dirOf(this.#cgroups, 'pids') ?? dirOf(this.#cgroups, '');
    return pidsDir ? cgroupProcs(pidsDir) : [];
  }

  /**
   * PSS of what the host keeps for this sandbox alone: the attached CLI, the
   * engine's per-container process (containerd-shim or conmon: the parent of
   * the container's first process) and every process in the container's pids
   * cgroup. The engine's daemons (dockerd, containerd), shared by every
   * sandbox, are not in it: `shared` reports them apart.
   */
  override async stats(): Promise<SandboxStats> {
    const container = this.containerPids();
    const monitor = this.#monitor?.pid;
    const cli = this.launcherPid();
    const pids = [...new Set([...(cli === undefined ? [] : [cli]), ...(monitor === undefined ? [] : [monitor]), ...container])];
    const reading = memoryOf(pids);
    const monitorName = monitor === undefined ? 'monitor' : commOf(monitor);
    const daemons = this.connection.daemonPids?.() ?? [];
    return {
      memory: { ...reading, method: `${reading.method}, over the ${this.connection.cli} CLI, the container's ${monitorName} and its pids cgroup; engine daemons apart (shared)` },
      processes: pids.length,
      limits: limitEvents(this.#cgroups),
      ...(daemons.length > 0 ? { shared: { ...memoryOf(daemons), processes: daemons.length, what: daemons.map(commOf).join(', ') } } : {}),
    };
  }

  /** ChildSandbox's reap (channel, CLI), then the container, whether or not the CLI still ran. */
  protected override async reap(): Promise<void> {
    try {
      await super.reap();
    } finally {
      // no CLI started, no container: asking an engine that may be down would only hide why create() failed
      if (this.child?.pid !== undefined) await (this.#removal ??= this.#removeContainer());
      await this.#monitorGone();
    }
  }

  /**
   * The shim or conmon exits on its own once its container is removed; destroy() waits for it, then SIGKILLs
   * it. Found by the container id on its command line (a create() that failed never learnt its pid).
   */
  async #monitorGone(): Promise<void> {
    const id = this.#monitor?.id ?? this.#fullId;
    if (!id) return;
    const monitors = () =>
      readProcTable()
        .filter((entry) => entry.state !== 'Z' && /^(conmon|containerd-shim)/.test(commOf(entry.pid)) && cmdlineOf(entry.pid).includes(id))
        .map((entry) => entry.pid);
    for (let look = 0; look < MONITOR_EXIT_LOOKS && monitors().length > 0; look++) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const pid of monitors()) signalQuietly(pid, 'SIGKILL');
  }

  async #removeContainer(): Promise<void> {
    // a container made by a create() that failed: its id finds its shim or conmon once it is removed
    if (!this.#monitor) this.#fullId = (await runEngine(this.connection, ['inspect', '--format', '{{.Id}}', this.id])).stdout || undefined;
    // a frozen container holds a kill pending (and older engines refuse to kill one): thaw it first
    if (this.#enginePaused) await this.#thaw().catch(() => undefined);
    this.#enginePaused = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await runEngine(this.connection, [...this.connection.removeArgs, this.id]);
      if (outcome.ok || NOT_FOUND.test(outcome.stderr)) return;
      // podman under runsc can find the root filesystem still busy while gVisor's gofer exits: try again shortly
      if (attempt === RM_ATTEMPTS) throw new Error(`${this.id}: ${this.connection.cli} rm --force: ${firstLine(outcome.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The host id that id `inside` maps to in a uid_map text; throws when it is not mapped. */
export function hostIdOf(uidMap: string, inside: number): number {
  for (const line of uidMap.split('\n')) {
    const [start, host, size] = line.trim().split(/\s+/).map(Number);
    if (start === undefined || host === undefined || size === undefined || Number.isNaN(size)) continue;
    if (inside >= start && inside < start + size) return host + (inside - start);
  }
  throw new Error(`uid ${inside} is not mapped in ${JSON.stringify(uidMap)}`);
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return String(pid);
  }
}
