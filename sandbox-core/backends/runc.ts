/**
 * The `runc` backend: the agent as the process of an OCI container run by
 * runc, on a busybox root filesystem the project builds (images/busybox-rootfs.ts),
 * mounted read-only. pid, mount, ipc, uts and network namespaces (runc brings
 * the new namespace's loopback up itself, and nothing else exists in it); no
 * capability unless the spec grants it; no_new_privs; memory and pids limits
 * in cgroups. Channel: the stdio of `runc run` in the foreground, which runc
 * hands to the container as they are.
 *
 * `runc run` runs under `setpriv --pdeathsig KILL`, and runc gives the
 * container's pid 1 a parent-death SIGKILL of its own (checked by SIGKILLing
 * runc run), so a running container dies with rigor even on SIGKILL; a
 * paused one, its cgroups and temp dirs are reclaimed by the per-process
 * watchdog (runc/watchdog.ts), and cgroups of an owner that died anyway are
 * swept by the next create() (runc/stale.ts).
 */
import { lstat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { which } from '../../runner/rig/requirements.ts';
import { cachedAgentCommand } from './agent-command.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { AGENT_IN_ROOTFS, DEFAULT_BUSYBOX, buildBusyboxRootfs, type RootfsOptions } from '../images/busybox-rootfs.ts';
import { isStaticElf } from '../images/static-elf.ts';
import { cgroupDirsFor, dirOf } from './runc/cgroups.ts';
import { checkCapabilities, ociConfig, type OciConfig } from './runc/oci-config.ts';
import { RuncSandbox } from './runc/sandbox.ts';
import { sweepStaleRuncCgroups } from './runc/stale.ts';
import { ensureRuncWatchdog } from './runc/watchdog.ts';
import type { Backend, Sandbox, SandboxSpec } from './types.ts';
import { DEFAULT_PATH } from '../default-path.ts';

const DEFAULT_WORKSPACE = '/workspace';
/** Where the Node agent's directory is bound inside (an empty directory of the rootfs). */
const NODE_AGENT_DIR = '/opt/rigor';

export interface RuncBackendOptions {
  rootfs?: RootfsOptions;
  /** pids.max of every container (default DEFAULT_PIDS_LIMIT). */
  pidsLimit?: number;
}

export class RuncBackend implements Backend {
  readonly name = 'runc';
  /** Whether the stale sweep ran and the watchdog was started: once, on the first create(). */
  #housekeeping = false;

  constructor(private readonly options: RuncBackendOptions = {}) {}

  async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.getuid?.() !== 0) return { ok: false, reason: 'runc needs root on this host (rootless runc needs cgroup v2 delegation)' };
    if (!which('runc')) return { ok: false, reason: 'runc not on PATH (apt-get install runc)' };
    if (!which('setpriv')) return { ok: false, reason: 'setpriv (util-linux) not on PATH' };
    const busybox = this.options.rootfs?.busyboxPath ?? DEFAULT_BUSYBOX;
    if (!existsSync(busybox) || !(await isStaticElf(busybox))) {
      return { ok: false, reason: `no static busybox at ${busybox} for the rootfs (apt-get install busybox-static)` };
    }
    return { ok: true };
  }

  /** The read-only rootfs every container shares, built once per process (a failed build is retried). */
  readonly rootfs = cacheUntilFailure(() => buildBusyboxRootfs(this.options.rootfs));

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const t0 = performance.now();
    checkSpec(spec);
    if (!this.#housekeeping) {
      this.#housekeeping = true;
      // in the background: stale cgroups are someone else's leftovers, not this create()'s work
      void sweepStaleRuncCgroups().catch(() => undefined);
      ensureRuncWatchdog();
    }
    return new RuncSandbox(spec, (sandbox) => this.#config(sandbox, spec, t0)).start(options.signal, t0);
  }

  async #config(sandbox: RuncSandbox, spec: SandboxSpec, t0: number): Promise<OciConfig> {
    const rootfs = await this.rootfs();
    sandbox.phases.rootfs = performance.now() - t0;
    const workspacePath = spec.workspacePath ?? DEFAULT_WORKSPACE;
    await checkWorkspace(rootfs, workspacePath);
    const agent = await agentLaunch(spec.agent ?? 'native');
    return ociConfig({
      id: sandbox.id,
      rootfs,
      workspaceSource: sandbox.paths.workspace,
      workspacePath,
      readOnlyBinds: agent.binds,
      args: agent.args,
      env: { PATH: DEFAULT_PATH, HOME: '/root' },
      cgroupsPath: sandbox.id,
      memoryMiB: spec.memoryMiB,
      pidsLimit: this.options.pidsLimit,
      swapAccounting: swapAccounting(),
      capabilities: spec.capabilities ?? [],
    });
  }
}

export const runcBackend = new RuncBackend();

/** Mistakes in the spec, before anything is made. */
function checkSpec(spec: SandboxSpec): void {
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: runc supports only "none", found ${JSON.stringify(spec.network)}`);
  if (spec.memoryMiB !== undefined && !(Number.isInteger(spec.memoryMiB) && spec.memoryMiB >= 8)) {
    throw new Error(`spec.memoryMiB: expected a whole number of MiB, at least 8, found ${spec.memoryMiB}`);
  }
  checkCapabilities(spec.capabilities ?? []);
}

/**
 * runc creates a missing mount point inside the rootfs, which would write
 * into the shared cache: the workspace must be a directory the rootfs
 * already has, or lie under the /tmp tmpfs.
 */
async function checkWorkspace(rootfs: string, workspacePath: string): Promise<void> {
  const normal = posix.normalize(workspacePath);
  if (!normal.startsWith('/') || normal !== workspacePath || normal === '/') {
    throw new Error(`spec.workspacePath: expected an absolute, normalized path other than /, found ${JSON.stringify(workspacePath)}`);
  }
  if (normal.startsWith('/tmp/')) return;
  const entry = await lstat(join(rootfs, normal)).catch(() => undefined);
  if (!entry?.isDirectory()) {
    throw new Error(`spec.workspacePath: expected /workspace, a directory of the rootfs or a path under /tmp, found ${JSON.stringify(workspacePath)}`);
  }
}

/**
 * The container's process. Native: the static agent with --init (it is pid 1,
 * so it reaps orphans). Node: the host's node with the host's /usr bound
 * read-only (the rootfs's /lib and /lib64 point into /usr) and the bundled
 * agent's directory at /opt/rigor.
 */
async function agentLaunch(kind: 'native' | 'node'): Promise<{ args: string[]; binds: { source: string; destination: string }[] }> {
  if (kind === 'native') return { args: [AGENT_IN_ROOTFS, '--init'], binds: [] };
  const [node, script] = await cachedAgentCommand('node');
  if (!node?.startsWith('/usr/') || !script) {
    throw new Error(`the runc Node agent binds the host's /usr, but node is ${node ?? 'missing'}; use agent: "native"`);
  }
  return { args: [node, `${NODE_AGENT_DIR}/${basename(script)}`], binds: [{ source: '/usr', destination: '/usr' }, { source: dirname(script), destination: NODE_AGENT_DIR }] };
}

let swapAccountingKnown: boolean | undefined;

/** Whether the memory cgroup has memory.memsw.* (swap accounting on). */
function swapAccounting(): boolean {
  if (swapAccountingKnown === undefined) {
    const memory = dirOf(cgroupDirsFor(''), 'memory');
    swapAccountingKnown = memory !== undefined && existsSync(join(memory, 'memory.memsw.limit_in_bytes'));
  }
  return swapAccountingKnown;
}
