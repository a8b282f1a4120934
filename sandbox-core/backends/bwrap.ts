/**
 * The `bwrap` backend: the agent inside bubblewrap (user, pid, mount, ipc,
 * uts, net and cgroup namespaces; only the system's programs, libraries and
 * /etc without credentials, read-only; fresh /proc and /dev; size-limited
 * tmpfs /tmp and workspace; only its own loopback). Channel: stdio through
 * bwrap. With `egress`, the only way out is the host proxy's unix socket,
 * bound in and relayed by the agent from 127.0.0.1:3128 (and the resolver's,
 * from 127.0.0.1:1053 over TCP).
 *
 * Isolation (each claim attacked from inside by test/sandbox-core/isolation/):
 * - bwrap runs as a host uid of the sandbox's own (isolation/host-ids.ts) and
 *   its user namespace maps only that uid (root inside: the agent) and a
 *   second one (uid 1000 inside: every command, dropped by the agent's
 *   `--exec-user`). Host root is not mapped: global sysctls and host files
 *   stay out of reach, and a command cannot signal, ptrace or take the fds of
 *   the agent, which is not dumpable either.
 * - The default seccomp profile (sandbox-core/seccomp/) is loaded by bwrap.
 * - pids and memory cgroups (isolation/cgroup-limits.ts): bwrap starts in
 *   them (isolation/cgroup-exec.ts joins them and drops to bwrap's uid before
 *   the exec), so the sandbox's pid 1 and all it forks are born there; the
 *   workspace and /tmp are tmpfs of a set size.
 *
 * No setpriv here: `--die-with-parent` puts PR_SET_PDEATHSIG on bwrap itself
 * and on the sandbox's pid 1, and when that pid 1 dies the kernel kills
 * everything in the pid namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { access, readdir, readlink, stat } from 'node:fs/promises';
import { constants, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { execa } from 'execa';
import { cachedAgentCommand } from './agent-command.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { whichOnce } from '../../base/which.ts';
import { bwrapArgs, ETC_SECRETS, SYSTEM_TOP_LEVEL, type CoveredPath, type RootEntry } from './bwrap-args.ts';
import { continueProcesses } from './freeze.ts';
import { SANDBOX_ID_ENV } from './agent-sandbox.ts';
import { ChildSandbox, type ChildLaunch } from './child-sandbox.ts';
import { agentRelays, withEgressEnv } from './egress-env.ts';
import { capabilityNumbers } from '../isolation/capabilities.ts';
import { signalQuietly } from '../../base/signal.ts';
import type { Backend, IsolationFacts, Sandbox, SandboxSpec, SandboxStats } from './types.ts';
import { DEFAULT_PATH } from '../default-path.ts';
import { acquireHostIds, idMap, INSIDE_COMMAND_ID, type HostIds } from '../isolation/host-ids.ts';
import { limitEvents, makeLimitCgroups, sweepStaleLimitCgroups, type LimitCgroups } from '../isolation/cgroup-limits.ts';
import { limitsOf } from '../isolation/limits.ts';
import { stageForSandboxes } from '../isolation/stage.ts';
import { cgroupExecArgs, cgroupExecPath } from '../isolation/cgroup-exec.ts';
import { seccompBpf, seccompProfile } from '../seccomp/index.ts';

const DEFAULT_WORKSPACE = '/workspace';
/** Where the agent's files are bound inside. */
const AGENT_DIR_INSIDE = '/.rigor-agent';
/** Extra fds of bwrap: it writes `{"child-pid": N}` on the first, waits on the second for the id maps, reads seccomp BPF from the third. */
const INFO_FD = 3;
const USERNS_BLOCK_FD = 4;
const SECCOMP_FD = 5;
/** What the agent needs inside its user namespace to run commands as another uid and kill them: nothing more. */
const AGENT_CAPABILITIES = ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_KILL'];

/** Directories, files and symlinks at the top of the host's root (a socket or device there is not bound). */
async function hostRootEntries(): Promise<RootEntry[]> {
  const entries = (await readdir('/', { withFileTypes: true })).filter(
    (entry) => SYSTEM_TOP_LEVEL.has(entry.name) && (entry.isDirectory() || entry.isFile() || entry.isSymbolicLink()),
  );
  return Promise.all(
    entries.map(async (entry) => (entry.isSymbolicLink() ? { name: entry.name, symlinkTarget: await readlink(`/${entry.name}`) } : { name: entry.name })),
  );
}

/** The /etc secrets this host has, as what covers each. */
async function coveredEtc(): Promise<CoveredPath[]> {
  const found = await Promise.all(
    ETC_SECRETS.map(async (name) => {
      const path = `/etc/${name}`;
      try {
        return { path, directory: (await stat(path)).isDirectory() };
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((entry): entry is CoveredPath => entry !== undefined);
}

/** Waits for bwrap's `{"child-pid": N}` on its info fd. */
function readChildPid(child: ChildProcess): Promise<number> {
  const info = child.stdio[INFO_FD] as NodeJS.ReadableStream;
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match) done(() => resolve(Number(match[1])));
    };
    const onEnd = () => done(() => reject(new Error('bwrap exited before it reported its child')));
    const done = (settle: () => void) => {
      info.off('data', onData);
      info.off('end', onEnd);
      info.off('close', onEnd);
      settle();
    };
    info.on('data', onData);
    info.once('end', onEnd);
    info.once('close', onEnd);
    info.on('error', () => {}); // the pipe closes with bwrap; 'close' settles
  });
}

/** The host's system directories and /etc's secrets, looked at once per process rather than on every create(). */
const systemView = cacheUntilFailure(() => Promise.all([hostRootEntries(), coveredEtc()]));

/** The agent's argv inside the sandbox and the host files bound in for it. */
interface StagedAgent {
  command: string[];
  files: Array<{ hostPath: string; sandboxPath: string }>;
}

async function stageAgent(kind: 'native' | 'node'): Promise<StagedAgent> {
  const staged: StagedAgent = { command: [], files: [] };
  for (const arg of await cachedAgentCommand(kind)) {
    // The agent's files live in root's cache, which bwrap's unprivileged uid cannot reach: staged copies are bound in.
    if (arg === process.execPath || !arg.startsWith('/')) {
      staged.command.push(arg);
      continue;
    }
    const sandboxPath = `${AGENT_DIR_INSIDE}/${basename(arg)}`;
    staged.files.push({ hostPath: await stageForSandboxes(arg), sandboxPath });
    staged.command.push(sandboxPath);
  }
  return staged;
}

/** Per agent kind, staged once per process rather than looked up and staged on every create(). */
const stagedAgent = { native: cacheUntilFailure(() => stageAgent('native')), node: cacheUntilFailure(() => stageAgent('node')) };

/** The helper that starts bwrap in the sandbox's cgroups, built once per process. */
const cgroupExec = cacheUntilFailure(() => cgroupExecPath());

/** The default profile's name and BPF, built once per process; a spec that allows syscalls builds its own (compiled once per profile). */
const defaultFilter = cacheUntilFailure(async () => {
  const profile = seccompProfile();
  return { name: profile.name, bpf: await seccompBpf(profile) };
});

/** The seccomp program bwrap loads, or undefined for 'unconfined'; throws on a seccomp value or syscall name the spec got wrong. */
async function seccompFilter(seccomp: string, allowSyscalls: string[] | undefined): Promise<{ name: string; bpf: Buffer } | undefined> {
  if (seccomp !== 'default' && seccomp !== 'unconfined') throw new Error(`sandbox spec seccomp: expected "default" or "unconfined", found ${JSON.stringify(seccomp)}`);
  if (seccomp === 'unconfined') return undefined;
  if (allowSyscalls === undefined || allowSyscalls.length === 0) return defaultFilter();
  const profile = seccompProfile({ allowSyscalls });
  return { name: profile.name, bpf: await seccompBpf(profile) };
}

class BwrapSandbox extends ChildSandbox {
  /** Host pid of the sandbox's pid 1; killing it ends the pid namespace and bwrap then exits. */
  #initPid: number | undefined;
  #ids: HostIds | undefined;
  #cgroups: LimitCgroups | undefined;
  isolation: IsolationFacts | undefined;

  constructor(spec: SandboxSpec) {
    super('bwrap', withEgressEnv(spec, 'bwrap'));
  }

  protected async plan(): Promise<ChildLaunch> {
    const workspacePath = this.spec.workspacePath ?? DEFAULT_WORKSPACE;
    const limits = limitsOf(this.spec);
    const granted = this.spec.capabilities ?? [];
    const [agent, [rootEntries, covered], filter, helper] = await Promise.all([
      stagedAgent[this.spec.agent ?? 'native'](),
      systemView(),
      seccompFilter(this.spec.seccomp ?? 'default', this.spec.allowSyscalls),
      cgroupExec(),
    ]);
    const bwrap = whichOnce('bwrap');
    if (!bwrap) throw new Error('bwrap (bubblewrap) not on PATH');
    const extraFiles = [...agent.files];
    const command = [...agent.command];
    command.push('--exec-user', `${INSIDE_COMMAND_ID}:${INSIDE_COMMAND_ID}`);
    const execCaps = capabilityNumbers(granted);
    if (execCaps.length > 0 && this.spec.agent === 'node') throw new Error("sandbox spec capabilities: granting capabilities to commands needs the native agent (agent: 'native'), found agent: 'node'");
    if (execCaps.length > 0) command.push('--exec-caps', execCaps.join(','));
    const egress = this.spec.egress;
    if (egress) {
      if (this.spec.agent === 'node') throw new Error("sandbox spec egress: needs the native agent (agent: 'native'), found agent: 'node'");
      // bound at bwrap's own root (/.rigor-proxy.sock, /.rigor-dns.sock): no host directory is touched
      const relays = await agentRelays(egress, 'bwrap', '');
      extraFiles.push(...relays.binds);
      command.push(...relays.agentArgs);
    }
    this.#ids = acquireHostIds();
    const ids = this.#ids;
    this.resources.lastResort.push(() => ids.release());
    this.#cgroups = makeLimitCgroups(this.id, limits);
    const cgroups = this.#cgroups;
    this.resources.lastResort.push(() => void cgroups.remove());
    this.isolation = {
      seccomp: filter?.name ?? 'unconfined',
      commandUid: INSIDE_COMMAND_ID,
      commandHostUid: ids.command,
      limits: { pids: limits.pids, memoryMiB: limits.memoryMiB, workspaceMiB: limits.workspaceMiB },
    };
    const path = process.env.PATH ?? DEFAULT_PATH;
    const args = bwrapArgs({
      rootEntries,
      coveredEtc: covered,
      workspacePath,
      workspaceBytes: limits.workspaceMiB * 1024 * 1024,
      tmpBytes: limits.workspaceMiB * 1024 * 1024,
      hostname: this.id,
      agentCapabilities: [...new Set([...AGENT_CAPABILITIES, ...granted])],
      env: { PATH: path, HOME: workspacePath, [SANDBOX_ID_ENV]: this.id },
      infoFd: INFO_FD,
      usernsBlockFd: USERNS_BLOCK_FD,
      seccompFd: filter ? SECCOMP_FD : undefined,
      extraFiles,
      command,
    });
    this.#bpf = filter?.bpf;
    // The helper runs as root only to join the cgroups, then becomes ids.agent and execs bwrap (same pid).
    const launch = cgroupExecArgs({ joinFiles: cgroups.joinFiles, uid: ids.agent, gid: ids.agent, command: bwrap, args });
    return { command: helper, args: launch, env: { PATH: path, [SANDBOX_ID_ENV]: this.id }, extraPipes: 3, cwd: '/' };
  }

  #bpf: Buffer | undefined;

  /** bwrap, started in the cgroups, has made the namespaces and waits: map the ids, hand it the filter, let it go on. */
  protected override async launched(child: ChildProcess): Promise<void> {
    const seccomp = (child.stdio as unknown as NodeJS.WritableStream[])[SECCOMP_FD]!;
    seccomp.on('error', () => {}); // bwrap gone: readChildPid below says so
    seccomp.end(this.#bpf ?? Buffer.alloc(0));
    const pid = await readChildPid(child);
    this.#initPid = pid;
    const map = idMap(this.#ids!);
    writeFileSync(`/proc/${pid}/uid_map`, map);
    writeFileSync(`/proc/${pid}/gid_map`, map);
    const block = (child.stdio as unknown as NodeJS.WritableStream[])[USERNS_BLOCK_FD]!;
    block.on('error', () => {});
    block.end('1');
  }

  override async stats(): Promise<SandboxStats> {
    const stats = await super.stats();
    return this.#cgroups ? { ...stats, limits: limitEvents(this.#cgroups.dirs) } : stats;
  }

  protected terminate(): void {
    // bwrap reaps its pid 1 and exits; killing bwrap first would leave that pid 1 an orphan zombie.
    if (this.#initPid === undefined) return this.forceKill();
    signalQuietly(this.#initPid, 'SIGKILL');
    // A paused bwrap must run again to reap its pid 1.
    if (this.paused) continueProcesses(this.paused);
  }

  protected override async reap(): Promise<void> {
    await super.reap();
    // Whatever escaped the process tree and group (an orphan of a killed bwrap) is still in the cgroups, which no
    // process of the sandbox can leave (their cgroup.procs files are root's): killing the members reaches all of it.
    if (this.#cgroups) await this.#cgroups.killMembers();
    this.#cgroups?.remove();
    this.#ids?.release();
  }
}

let probe: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
let swept = false;

/** One real bwrap run with a user namespace: the binary can be present while the kernel or a policy forbids it. */
async function probeBwrap(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const bwrap = whichOnce('bwrap');
  if (!bwrap) return { ok: false, reason: 'bwrap (bubblewrap) not on PATH' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'bwrap sandboxes need root here: rigor maps each sandbox to host uids of its own' };
  try {
    await access('/proc/self/uid_map', constants.W_OK);
  } catch {
    return { ok: false, reason: 'this kernel has no writable /proc/<pid>/uid_map (user namespaces)' };
  }
  const result = await execa(bwrap, ['--unshare-user', '--unshare-pid', '--unshare-net', '--ro-bind', '/', '/', 'true'], { reject: false, stdin: 'ignore' });
  if (result.exitCode === 0) return { ok: true };
  return { ok: false, reason: `bwrap cannot create namespaces here: ${String(result.stderr).trim() || result.shortMessage}` };
}

export const bwrapBackend: Backend = {
  name: 'bwrap',
  available() {
    probe ??= probeBwrap();
    return probe;
  },
  create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    if (!swept) {
      swept = true;
      sweepStaleLimitCgroups();
    }
    return new BwrapSandbox(spec).start(options.signal);
  },
};
