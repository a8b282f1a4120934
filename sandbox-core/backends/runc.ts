/**
 * The `runc` backend: the agent as the process of an OCI container run by
 * runc, on a busybox root filesystem the project builds (images/busybox-rootfs.ts),
 * staged where a mapped root can reach it (runc/rootfs.ts) and mounted read-only.
 *
 * What it isolates, and how:
 * - ids: a user namespace per container mapping only a pair of host uids/gids
 *   held by this sandbox alone (isolation/host-ids.ts): container root (the
 *   agent) → `hostIds.agent`, uid 1000 (every command) → `hostIds.command`.
 *   Host root is not mapped, so root inside owns nothing outside.
 * - the agent and its commands: the native agent holds only CAP_SETUID,
 *   CAP_SETGID, CAP_SETPCAP and CAP_KILL (the Node agent the same but
 *   CAP_SETPCAP; runc/oci-config.ts says why), none inheritable, plus what the
 *   spec grants; it runs each command as 1000:1000 (`--exec-user`) with only
 *   the granted capabilities (`--exec-caps`; the Node agent cannot hand any on,
 *   so a spec granting some to it is refused) and no_new_privs. A command
 *   runs under another uid than pid 1, so it cannot open /proc/1/fd/1 (the
 *   channel), signal or ptrace the agent, or forge its replies.
 * - syscalls: the seccomp profile of sandbox-core/seccomp/ on the agent and
 *   everything it starts, unless the spec asks for 'unconfined'.
 * - namespaces: user, pid, mount, ipc, uts and network (runc brings the new
 *   namespace's loopback up itself, and nothing else exists in it).
 * - files: the rootfs read-only; /proc/sys read-only; /dev, /tmp (256 MiB)
 *   and the workspace private tmpfs; the workspace is a tmpfs of
 *   `workspaceMiB` owned by the command user: nothing of it is on host disk,
 *   and the host never sees it except through the agent.
 * - resources (limitsOf(spec)): memory.limit_in_bytes (and memsw when swap is
 *   accounted) and pids.max in the container's cgroups; tmpfs pages count
 *   toward the memory limit. stats().limits counts OOM kills and refused forks.
 * The sandbox says what confined it in `isolation` (seccomp profile name,
 * command uid inside and on the host, limits), and `hostIds` holds the pair.
 * test/sandbox-core/backends/runc/isolation.test.ts and limits.test.ts attack each claim.
 *
 * Channel: the stdio of `runc run` in the foreground, which runc hands to the
 * container as they are.
 *
 * `runc run` runs under `setpriv --pdeathsig KILL`, and runc gives the
 * container's pid 1 a parent-death SIGKILL of its own (checked by SIGKILLing
 * runc run), so a running container dies with rigor even on SIGKILL; a
 * paused one, its cgroups and temp dirs are reclaimed by the per-process
 * watchdog (runc/watchdog.ts), and cgroups of an owner that died anyway are
 * swept by the next create() (runc/stale.ts). The host id pair is released
 * on destroy, by the exit-time last resort, or, when its owner died, taken
 * over by the next acquirer.
 */
import { lstat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { whichOnce } from '../../base/which.ts';
import { cachedAgentCommand } from './agent-command.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { AGENT_IN_ROOTFS, DEFAULT_BUSYBOX, buildBusyboxRootfs, type RootfsOptions } from '../images/busybox-rootfs.ts';
import { isStaticElf } from '../images/static-elf.ts';
import { INSIDE_COMMAND_ID } from '../isolation/host-ids.ts';
import { limitsOf, type Limits } from '../isolation/limits.ts';
import { ociSeccomp, seccompProfile, type OciSeccomp } from '../seccomp/profile.ts';
import { capabilityNumbers, checkCapabilities } from '../isolation/capabilities.ts';
import { cgroupDirsFor, dirOf } from '../../base/cgroups.ts';
import { AGENT_CAPABILITIES, NODE_AGENT_CAPABILITIES, ociConfig, type OciConfig } from './runc/oci-config.ts';
import { runcSnapshotSupport } from './runc/criu.ts';
import { stageRootfs } from './runc/rootfs.ts';
import { RuncSandbox } from './runc/sandbox.ts';
import { sweepStaleRuncCgroups } from './runc/stale.ts';
import { ensureRuncWatchdog } from './runc/watchdog.ts';
import type { Backend, RestoreOptions, Sandbox, SandboxSpec } from './types.ts';
import { fillWorkspace, readForkImage } from './runc/fork.ts';
import { agentRelays, withEgressEnv } from './egress-env.ts';
import { DEFAULT_PATH } from '../default-path.ts';

const DEFAULT_WORKSPACE = '/workspace';
/**
 * Where the egress sockets are bound inside (read-only: connect() is not a write to the file system): the
 * private /tmp tmpfs takes the mount points, so the shared read-only rootfs is never written; runsc's Sentry
 * makes them there too.
 */
const EGRESS_SOCKET_DIR = '/tmp';
/** Where the Node agent's directory is bound inside (an empty directory of the rootfs). */
const NODE_AGENT_DIR = '/opt/rigor';
/**
 * runc sets the limit once runc init is in the cgroup, and the kernel refuses one below what it
 * already uses (1 and 2 MiB fail: "error setting cgroup config"); 8 leaves the agent room to start.
 */
const RUNC_MIN_MEMORY_MIB = 8;
/** What `seccompProfile` says when the spec asked for no filter. */
export const UNCONFINED = 'unconfined';

export interface RuncBackendOptions {
  rootfs?: RootfsOptions;
  /** pids.max of a container whose spec sets no pidsLimit (default DEFAULT_LIMITS.pids). */
  pidsLimit?: number;
}

export class RuncBackend implements Backend {
  readonly name = 'runc';
  /** Whether the stale sweep ran and the watchdog was started: once, on the first create(). */
  #housekeeping = false;

  constructor(private readonly options: RuncBackendOptions = {}) {}

  async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.getuid?.() !== 0) return { ok: false, reason: 'runc needs root on this host (rootless runc needs cgroup v2 delegation)' };
    if (!whichOnce('runc')) return { ok: false, reason: 'runc not on PATH (apt-get install runc)' };
    if (!whichOnce('setpriv')) return { ok: false, reason: 'setpriv (util-linux) not on PATH' };
    const busybox = this.options.rootfs?.busyboxPath ?? DEFAULT_BUSYBOX;
    if (!existsSync(busybox) || !(await isStaticElf(busybox))) {
      return { ok: false, reason: `no static busybox at ${busybox} for the rootfs (apt-get install busybox-static)` };
    }
    return { ok: true };
  }

  /** `criu check` at run time (runc/criu.ts): the reason names what criu printed, or what rigor lacks where it passes. */
  async snapshotSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const available = await this.available();
    return available.ok ? runcSnapshotSupport() : available;
  }

  /** Refuses with snapshotSupport()'s reason: nothing is started. */
  async restore(dir: string): Promise<Sandbox> {
    const support = await this.snapshotSupport();
    throw new Error(`runc restore of ${dir}: ${support.ok ? 'not implemented' : support.reason}`);
  }

  /**
   * The read-only rootfs every container shares, as containers mount it (the
   * staged copy the mapped root can reach), built once per process (a failed
   * build is retried).
   */
  readonly rootfs = cacheUntilFailure(async () => stageRootfs(await buildBusyboxRootfs(this.options.rootfs)));

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const t0 = performance.now();
    const limits = checkSpec(spec, this.options.pidsLimit);
    // before anything is made: an unknown syscall name in allowSyscalls is the spec's mistake
    const profile = spec.seccomp === 'unconfined' ? undefined : seccompProfile({ allowSyscalls: spec.allowSyscalls });
    if (!this.#housekeeping) {
      this.#housekeeping = true;
      // in the background: stale cgroups are someone else's leftovers, not this create()'s work
      void sweepStaleRuncCgroups().catch(() => undefined);
      ensureRuncWatchdog();
    }
    const seccomp = profile ? { name: profile.name, oci: ociSeccomp(profile) } : undefined;
    return new RuncSandbox(withEgressEnv(spec, 'runc'), { limits, seccompProfile: seccomp?.name ?? UNCONFINED }, (sandbox) =>
      bundleConfig(sandbox, spec, limits, seccomp?.oci, t0, { rootfs: this.rootfs, egress: 'runc' }),
    ).start(options.signal, t0);
  }

  /** Forks need nsenter (util-linux) and GNU tar on the host besides what create() needs. */
  async forkSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const available = await this.available();
    if (!available.ok) return available;
    for (const tool of ['nsenter', 'tar']) if (!whichOnce(tool)) return { ok: false, reason: `${tool} not on PATH (util-linux, tar): a runc fork's child is filled with them` };
    return { ok: true };
  }

  /**
   * A child of a fork image (RuncSandbox.fork, runc/fork.ts): a new container of the image's spec whose
   * workspace holds the image's files, owned by the child's own host ids; ready once filled and pinged.
   * A damaged image is refused before anything starts; a failed fill destroys the child.
   */
  async fromFork(dir: string, options: RestoreOptions = {}): Promise<Sandbox> {
    const t0 = performance.now();
    const manifest = await readForkImage(dir);
    const spec: SandboxSpec = { ...manifest.spec, ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}) };
    const child = (await this.create(spec, { signal: options.signal })) as RuncSandbox;
    try {
      await fillWorkspace(dir, manifest, child.initPid(), child.paths.dir);
      child.phases.filled = performance.now() - t0;
      await child.ping();
      child.phases.forkReady = performance.now() - t0;
      return child;
    } catch (error) {
      await child.destroy();
      throw new Error(`${child.id}: starting from fork image ${dir} failed, the child was destroyed: ${(error as Error).message}`);
    }
  }
}

/** What another runtime over runc's bundle (gvisor) makes differently. */
export interface BundleOptions {
  /** The staged rootfs (its wait is the `rootfs` phase). */
  rootfs: () => Promise<string>;
  /** The commands' RLIMIT_NPROC, through the native agent's --exec-nproc; default none (the pids cgroup bounds them). */
  execNproc?: number;
  /** pids.max of the container's cgroup; default limits.pids. */
  cgroupPids?: number;
  /** Whose egress addresses the agent relays when the spec asks for egress (egress-env.ts). */
  egress: 'runc' | 'gvisor';
}

/** The container's config.json: the staged rootfs, the agent as its process, the spec's workspace, limits and seccomp. */
export async function bundleConfig(
  sandbox: RuncSandbox,
  spec: SandboxSpec,
  limits: Limits,
  seccomp: OciSeccomp | undefined,
  t0: number,
  options: BundleOptions,
): Promise<OciConfig> {
  const rootfs = await options.rootfs();
  sandbox.phases.rootfs = performance.now() - t0;
  const workspacePath = spec.workspacePath ?? DEFAULT_WORKSPACE;
  await checkWorkspace(rootfs, workspacePath);
  const capabilities = spec.capabilities ?? [];
  const agent = await agentLaunch(spec.agent ?? 'native', capabilities, options.execNproc);
  // egress: the agent relays 127.0.0.1:3128 (and :1053) of the container's own network to the host's sockets, bound in
  const relays = spec.egress ? await agentRelays(spec.egress, options.egress, EGRESS_SOCKET_DIR) : undefined;
  const hostIds = sandbox.hostIds;
  if (!hostIds) throw new Error(`${sandbox.id}: no host ids acquired`);
  return ociConfig({
    id: sandbox.id,
    rootfs,
    workspacePath,
    workspaceMiB: limits.workspaceMiB,
    readOnlyBinds: [...agent.binds, ...(relays?.binds ?? []).map(({ hostPath, sandboxPath }) => ({ source: hostPath, destination: sandboxPath }))],
    args: [...agent.args, ...(relays?.agentArgs ?? [])],
    agentCapabilities: agent.capabilities,
    env: { PATH: DEFAULT_PATH, HOME: '/root' },
    cgroupsPath: sandbox.id,
    memoryMiB: limits.memoryMiB,
    pidsLimit: options.cgroupPids ?? limits.pids,
    swapAccounting: swapAccounting(),
    hostIds,
    capabilities,
    seccomp,
  });
}

export const runcBackend = new RuncBackend();

/** Mistakes in the spec, before anything is made; the limits the sandbox gets. */
export function checkSpec(spec: SandboxSpec, backendPidsLimit: number | undefined): Limits {
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: runc supports only "none", found ${JSON.stringify(spec.network)}`);
  if (spec.seccomp !== undefined && spec.seccomp !== 'default' && spec.seccomp !== 'unconfined') {
    throw new Error(`spec.seccomp: expected "default" or "unconfined", found ${JSON.stringify(spec.seccomp)}`);
  }
  const limits = limitsOf({ ...spec, pidsLimit: spec.pidsLimit ?? backendPidsLimit });
  if (limits.memoryMiB < RUNC_MIN_MEMORY_MIB) {
    throw new Error(`spec.memoryMiB: runc needs at least ${RUNC_MIN_MEMORY_MIB} MiB (runc init runs in the container's memory cgroup), found ${limits.memoryMiB}`);
  }
  checkCapabilities(spec.capabilities ?? []);
  if (spec.egress && spec.agent === 'node') throw new Error("spec.egress: needs the native agent (agent: 'native'), which relays to the proxy; found agent: 'node'");
  if (spec.agent === 'node' && (spec.capabilities ?? []).length > 0) {
    // its commands drop to the command user with libuv's setuid, which clears every capability
    throw new Error('spec.capabilities: the Node agent cannot hand capabilities to its commands (it has no --exec-caps); use agent: "native"');
  }
  return limits;
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
 * agent's directory at /opt/rigor. Either runs its commands as
 * INSIDE_COMMAND_ID with only the granted capabilities; `execNproc` (native
 * agent only) bounds the commands' processes by their RLIMIT_NPROC.
 */
async function agentLaunch(
  kind: 'native' | 'node',
  capabilities: string[],
  execNproc?: number,
): Promise<{ args: string[]; binds: { source: string; destination: string }[]; capabilities: readonly string[] }> {
  const caps = capabilityNumbers(capabilities);
  const dropTo = ['--exec-user', `${INSIDE_COMMAND_ID}:${INSIDE_COMMAND_ID}`, ...(caps.length > 0 ? ['--exec-caps', caps.join(',')] : [])];
  if (execNproc !== undefined) {
    if (kind !== 'native') throw new Error('spec.agent: only the native agent bounds its commands by RLIMIT_NPROC (--exec-nproc); use agent: "native"');
    dropTo.push('--exec-nproc', String(execNproc));
  }
  if (kind === 'native') return { args: [AGENT_IN_ROOTFS, '--init', ...dropTo], binds: [], capabilities: AGENT_CAPABILITIES };
  const [node, script] = await cachedAgentCommand('node');
  if (!node?.startsWith('/usr/') || !script) {
    throw new Error(`the runc Node agent binds the host's /usr, but node is ${node ?? 'missing'}; use agent: "native"`);
  }
  return {
    args: [node, `${NODE_AGENT_DIR}/${basename(script)}`, ...dropTo],
    binds: [{ source: '/usr', destination: '/usr' }, { source: dirname(script), destination: NODE_AGENT_DIR }],
    capabilities: NODE_AGENT_CAPABILITIES,
  };
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
