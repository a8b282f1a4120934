/**
 * One gVisor sandbox: a RuncSandbox whose runtime is `runsc`. Everything of
 * the container's life is runc's (launch under a parent-death SIGKILL, pause,
 * kill, delete, cgroups, the pair of host ids); what differs is what it says
 * about itself. Inside, the uid map is the Sentry's own emulation, so the
 * host side is read from /proc once the sandbox is ready: which host uid the
 * Sentry (runsc-sandbox, whose stub processes run the commands' code on the
 * ptrace platform) and the gofer (runsc-gofer, which serves the rootfs) run as.
 */
import { readFileSync } from 'node:fs';
import { readProcTable } from '../../../base/proc-table.ts';
import { INSIDE_COMMAND_ID } from '../../isolation/host-ids.ts';
import type { IsolationFacts, SandboxSpec, SandboxStats } from '../types.ts';
import type { OciConfig } from '../runc/oci-config.ts';
import type { OciRuntime } from '../runc/runc-cli.ts';
import { RuncSandbox, type RuncIsolation } from '../runc/sandbox.ts';
import type { GvisorPlatform } from './runsc.ts';

/** The host processes runsc starts for one sandbox, as their argv[0] names them. */
export const SENTRY_NAME = 'runsc-sandbox';
export const GOFER_NAME = 'runsc-gofer';

export interface GvisorFacts {
  runscVersion: string;
  platform: GvisorPlatform;
  /** Whether the proxy's (and resolver's) sockets were bound in, with runsc --host-uds=open. */
  egress: boolean;
}

/** Host uids of runsc's processes of one sandbox, read once it is ready. */
export interface RunscHostUids {
  /** `runsc run`: the runtime, host root by design like `runc run`; it runs no sandboxed code. */
  runtime: number;
  sentry: number;
  gofer: number;
}

export class GvisorSandbox extends RuncSandbox {
  #uids: RunscHostUids | undefined;

  constructor(
    spec: SandboxSpec,
    isolation: RuncIsolation,
    config: (sandbox: RuncSandbox) => Promise<OciConfig>,
    runtime: OciRuntime,
    private readonly gvisor: GvisorFacts,
  ) {
    super(spec, isolation, config, runtime);
  }

  /** Start as RuncSandbox does, then read the host uids of runsc's processes (they are there once the agent answered). */
  override async start(signal?: AbortSignal, t0?: number): Promise<this> {
    await super.start(signal, t0);
    try {
      this.#uids = this.readHostUids();
    } catch (error) {
      await this.destroy();
      throw error;
    }
    return this;
  }

  /** `runsc run` and its two children, runsc-sandbox (the Sentry) and runsc-gofer, with their real uids. */
  readHostUids(): RunscHostUids {
    const runtime = this.launcherPid();
    if (runtime === undefined) throw new Error(`${this.id}: runsc run is not running`);
    const children = readProcTable().filter((entry) => entry.ppid === runtime);
    const named = (name: string) => {
      const pid = children.find((entry) => argv0(entry.pid) === name)?.pid;
      if (pid === undefined) throw new Error(`${this.id}: no ${name} process under runsc run (pid ${runtime})`);
      return realUid(pid);
    };
    return { runtime: realUid(runtime), sentry: named(SENTRY_NAME), gofer: named(GOFER_NAME) };
  }

  /** RuncSandbox's reading, which over the pids cgroup here means runsc-sandbox (the Sentry), its stub processes and runsc-gofer. */
  override async stats(): Promise<SandboxStats> {
    const stats = await super.stats();
    return { ...stats, memory: { ...stats.memory, method: `${stats.memory.method} (${SENTRY_NAME}, its stub processes and ${GOFER_NAME})` } };
  }

  /**
   * The commands' host uid is the Sentry's: their code runs in its stub processes (ptrace) or its
   * guest mode (kvm), and every syscall they make is served by the Sentry, never by the host kernel.
   */
  override get isolation(): IsolationFacts | undefined {
    const facts = super.isolation;
    if (!facts || !this.#uids) return facts;
    return { ...facts, commandUid: INSIDE_COMMAND_ID, commandHostUid: this.#uids.sentry };
  }

  /** What artifacts say of how this sandbox ran (copied into each cell's facts). */
  get facts(): Record<string, unknown> {
    return {
      gvisor: {
        runsc_version: this.gvisor.runscVersion,
        platform: this.gvisor.platform,
        network: 'none',
        host_uds: this.gvisor.egress ? 'open' : 'none',
        // the project's seccomp profile, applied by the Sentry to the commands (runsc --oci-seccomp)
        oci_seccomp: this.seccompProfile !== 'unconfined',
        ...(this.#uids ? { runtime_host_uid: this.#uids.runtime, sentry_host_uid: this.#uids.sentry, gofer_host_uid: this.#uids.gofer } : {}),
      },
    };
  }
}

function argv0(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

function realUid(pid: number): number {
  const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no Uid line in /proc/${pid}/status`);
  return Number(match[1]);
}
