/**
 * The `bwrap` backend: the agent inside bubblewrap (user, pid, mount, ipc,
 * uts, net and cgroup namespaces; host root read-only; fresh /proc, /dev and
 * /tmp; a host temp dir bound writable at the workspace; only its own
 * loopback; every capability dropped unless the spec grants it). Channel:
 * stdio through bwrap. With `egress`, the only way out is the host proxy's
 * unix socket, bound in and relayed by the agent from 127.0.0.1:3128 (and
 * the resolver's, from 127.0.0.1:1053 over TCP).
 *
 * No setpriv here: `--die-with-parent` puts PR_SET_PDEATHSIG on bwrap itself
 * and on the sandbox's pid 1 (checked with a SIGKILLed parent), and when
 * that pid 1 dies the kernel kills everything in the pid namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { execa } from 'execa';
import { cachedAgentCommand } from './agent-command.ts';
import { which } from '../../runner/rig/requirements.ts';
import { makeSandboxTempDir } from '../cleanup.ts';
import { defaultCaDir } from '../proxy/ca-dir.ts';
import { bwrapArgs, hiddenInside, type RootEntry } from './bwrap-args.ts';
import { continueProcesses } from './freeze.ts';
import { SANDBOX_ID_ENV } from './agent-sandbox.ts';
import { ChildSandbox, type ChildLaunch } from './child-sandbox.ts';
import { checkEgressSockets, EGRESS_ADDRESSES, egressEnv } from './egress-env.ts';
import { signalQuietly } from './signal.ts';
import type { Backend, Sandbox, SandboxSpec } from './types.ts';
import { DEFAULT_PATH } from '../default-path.ts';

const DEFAULT_WORKSPACE = '/workspace';
/** Where agent files hidden from the sandbox (under the host's /tmp, say) are bound instead. */
const AGENT_DIR_INSIDE = '/.rigor-agent';
/** Where the egress proxy's unix socket is bound inside (bwrap's own root, so no host directory is touched). */
const PROXY_SOCKET_INSIDE = '/.rigor-proxy.sock';
const DNS_SOCKET_INSIDE = '/.rigor-dns.sock';
/** The sandbox's own loopback ports the agent relays to those sockets. */
const BWRAP_EGRESS = EGRESS_ADDRESSES.bwrap;
/** bwrap writes `{"child-pid": N}` here: the host pid of the sandbox's pid 1. */
const INFO_FD = 3;

/** Directories, files and symlinks at the top of the host's root (a socket or device there is not bound). */
async function hostRootEntries(): Promise<RootEntry[]> {
  const entries = (await readdir('/', { withFileTypes: true })).filter((entry) => entry.isDirectory() || entry.isFile() || entry.isSymbolicLink());
  return Promise.all(
    entries.map(async (entry) => (entry.isSymbolicLink() ? { name: entry.name, symlinkTarget: await readlink(`/${entry.name}`) } : { name: entry.name })),
  );
}

class BwrapSandbox extends ChildSandbox {
  /** Host pid of the sandbox's pid 1; killing it ends the pid namespace and bwrap then exits. */
  #initPid: number | undefined;

  constructor(spec: SandboxSpec) {
    const env = spec.egress ? egressEnv(BWRAP_EGRESS.proxy, spec.egress.dnsSocket ? BWRAP_EGRESS.dns : undefined) : undefined;
    super('bwrap', env ? { ...spec, env: { ...env, ...spec.env } } : spec);
  }

  protected async plan(): Promise<ChildLaunch> {
    const workspacePath = this.spec.workspacePath ?? DEFAULT_WORKSPACE;
    const [agent, rootEntries] = await Promise.all([cachedAgentCommand(this.spec.agent ?? 'native'), hostRootEntries()]);
    const extraFiles: Array<{ hostPath: string; sandboxPath: string }> = [];
    const command = agent.map((arg) => {
      if (!arg.startsWith('/') || !hiddenInside(arg, workspacePath)) return arg;
      const sandboxPath = `${AGENT_DIR_INSIDE}/${basename(arg)}`;
      extraFiles.push({ hostPath: arg, sandboxPath });
      return sandboxPath;
    });
    const egress = this.spec.egress;
    if (egress) {
      if (this.spec.agent === 'node') throw new Error("sandbox spec egress: needs the native agent (agent: 'native'), found agent: 'node'");
      checkEgressSockets(egress);
      extraFiles.push({ hostPath: egress.proxySocket, sandboxPath: PROXY_SOCKET_INSIDE });
      command.push('--forward', `${BWRAP_EGRESS.proxy.host}:${BWRAP_EGRESS.proxy.port}=${PROXY_SOCKET_INSIDE}`);
      if (egress.dnsSocket) {
        extraFiles.push({ hostPath: egress.dnsSocket, sandboxPath: DNS_SOCKET_INSIDE });
        command.push('--forward', `${BWRAP_EGRESS.dns.host}:${BWRAP_EGRESS.dns.port}=${DNS_SOCKET_INSIDE}`);
      }
    }
    const workspace = makeSandboxTempDir(this.resources, 'bwrap');
    const path = process.env.PATH ?? DEFAULT_PATH;
    const args = bwrapArgs({
      rootEntries,
      workspaceHostDir: workspace,
      workspacePath,
      hostname: this.id,
      capabilities: this.spec.capabilities ?? [],
      env: { PATH: path, HOME: workspacePath, [SANDBOX_ID_ENV]: this.id },
      infoFd: INFO_FD,
      extraFiles,
      // The interception CA's private key lives under the host's cache, which the read-only root shows: cover it.
      hiddenDirs: [defaultCaDir()].filter((dir) => existsSync(dir)),
      command,
    });
    return { command: 'bwrap', args, env: { PATH: path, [SANDBOX_ID_ENV]: this.id }, extraPipes: 1 };
  }

  protected override launched(child: ChildProcess): void {
    const info = child.stdio[INFO_FD] as NodeJS.ReadableStream;
    let text = '';
    info.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match) this.#initPid = Number(match[1]);
    });
    info.on('error', () => {}); // the pipe closes with bwrap; the pid is then known or not needed
  }

  protected terminate(): void {
    // bwrap reaps its pid 1 and exits; killing bwrap first would leave that pid 1 an orphan zombie.
    if (this.#initPid === undefined) return this.forceKill();
    signalQuietly(this.#initPid, 'SIGKILL');
    // A paused bwrap must run again to reap its pid 1.
    if (this.paused) continueProcesses(this.paused);
  }
}

let probe: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

/** One real bwrap run with a user namespace: the binary can be present while the kernel or a policy forbids it. */
async function probeBwrap(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!which('bwrap')) return { ok: false, reason: 'bwrap (bubblewrap) not on PATH' };
  const result = await execa('bwrap', ['--unshare-user', '--unshare-pid', '--unshare-net', '--ro-bind', '/', '/', 'true'], { reject: false, stdin: 'ignore' });
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
    return new BwrapSandbox(spec).start(options.signal);
  },
};
