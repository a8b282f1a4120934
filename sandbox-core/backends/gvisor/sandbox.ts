/**
 * One gVisor sandbox: a RuncSandbox whose runtime is `runsc`. Everything of
 * the container's life is runc's (launch under a parent-death SIGKILL, pause,
 * kill, delete, cgroups, the pair of host ids); what differs is what it says
 * about itself. Inside, the uid map is the Sentry's own emulation, so the
 * host side is read from /proc once the sandbox is ready: which host uid the
 * Sentry (runsc-sandbox, whose stub processes run the commands' code on the
 * ptrace platform) and the gofer (runsc-gofer, which serves the rootfs) run as.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { constants, copyFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readProcTable } from '../../../base/proc-table.ts';
import { whichOnce } from '../../../base/which.ts';
import { AgentClient, type AgentHello } from '../../agent/client.ts';
import { INSIDE_COMMAND_ID } from '../../isolation/host-ids.ts';
import type { IsolationFacts, SandboxSpec, SandboxStats, SnapshotInfo } from '../types.ts';
import type { OciConfig } from '../runc/oci-config.ts';
import { runc, runtimeArgs, type OciRuntime } from '../runc/runc-cli.ts';
import { RuncSandbox, type RuncIsolation } from '../runc/sandbox.ts';
import { partialDirFor } from '../image-copy.ts';
import { digestOf, MANIFEST_FILE, savedSpec } from '../snapshot-manifest.ts';
import type { GvisorPlatform } from './runsc.ts';
import { IMAGE_FILE, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type GvisorSnapshotManifest } from './snapshot-manifest.ts';

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

/** A restore: the checked snapshot directory, and the agent's HELLO and next request id as the save left them. */
export interface GvisorRestoreFrom {
  dir: string;
  hello: AgentHello;
  nextId: number;
}

export class GvisorSandbox extends RuncSandbox {
  #uids: RunscHostUids | undefined;

  constructor(
    spec: SandboxSpec,
    isolation: RuncIsolation,
    config: (sandbox: RuncSandbox) => Promise<OciConfig>,
    runtime: OciRuntime,
    private readonly gvisor: GvisorFacts,
    private readonly restoreFrom?: GvisorRestoreFrom,
  ) {
    super(spec, isolation, config, runtime);
    this.restoreImage = restoreFrom?.dir;
  }

  /** A restored Sentry's agent said HELLO before the save: its channel is adopted where the save left it. */
  protected override async connectAgent(child: ChildProcess, timeoutMs: number): Promise<AgentClient> {
    if (!this.restoreFrom) return super.connectAgent(child, timeoutMs);
    return AgentClient.adopt(child.stdout!, child.stdin!, this.restoreFrom.hello, this.restoreFrom.nextId, { helloTimeoutMs: timeoutMs });
  }

  /**
   * `runsc checkpoint` into the sandbox's own temp dir (the Sentry's state and memory, the workspace's
   * tmpfs with it); runsc stops the sandbox once saved. The image and the manifest are then copied into
   * a temp dir beside `dir`, renamed to `dir` when whole (saveMs stops there), and this same sandbox is
   * restored in place from its image (`runsc restore`, same container id, cgroups and host ids): it runs
   * on, paused again if it was. A target that cannot take the copy (a full disk) leaves no directory and
   * the sandbox still runs on; a sandbox runsc stopped without a whole image is destroyed, and the error
   * says so. Requests in flight when it is called fail (their channel ends with the save).
   */
  override async snapshot(dir: string): Promise<SnapshotInfo> {
    const t0 = performance.now();
    const client = this.agent();
    if (this.spec.egress) throw new Error(`${this.id}: snapshot: a sandbox with egress is not saved (its relayed connections to the host's sockets would not survive a restore)`);
    const partial = await partialDirFor(dir, 'snapshot');
    const image = join(this.paths.dir, `checkpoint-${randomBytes(4).toString('hex')}`);
    const wasPaused = this.containerPaused;
    // runsc checkpoints a running Sentry; the restored one is paused again below
    if (wasPaused) await this.resume();
    let saved = false; // whether `image` holds a whole checkpoint
    let info: SnapshotInfo | undefined;
    let failure: Error | undefined;
    try {
      const checkpoint = await runc(this.paths.state, ['checkpoint', '--image-path', image, this.id], this.runtime);
      if (!checkpoint.ok) throw new Error(`runsc checkpoint: ${checkpoint.stderr || 'failed'}`);
      saved = true;
      // runsc stopped the Sentry; `runsc run` deletes the container and exits
      await this.exited;
      if (existsSync(join(this.paths.state, this.id))) await runc(this.paths.state, ['delete', '--force', this.id], this.runtime);
      const digest = await digestOf(join(image, IMAGE_FILE));
      const manifest: GvisorSnapshotManifest = {
        format: SNAPSHOT_FORMAT,
        version: SNAPSHOT_VERSION,
        saved_at: new Date().toISOString(),
        runsc: this.gvisor.runscVersion,
        platform: this.gvisor.platform,
        rootfs: this.rootfsKey(),
        spec: savedSpec(this.spec, ['memoryMiB', 'pidsLimit', 'workspaceMiB', 'workspacePath', 'seccomp', 'allowSyscalls', 'capabilities', 'env']),
        agent: { hello: client.hello, next_id: client.nextId },
        files: { image: digest },
      };
      await copyFile(join(image, IMAGE_FILE), join(partial, IMAGE_FILE), constants.COPYFILE_EXCL);
      await writeFile(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      await rename(partial, dir);
      const allocated = (await Promise.all([IMAGE_FILE, MANIFEST_FILE].map((name) => stat(join(dir, name))))).reduce((sum, file) => sum + file.blocks * 512, 0);
      info = { dir, saveMs: performance.now() - t0, bytes: digest.bytes, allocatedBytes: allocated };
    } catch (error) {
      failure = new Error(`${this.id}: snapshot to ${dir} failed, nothing was written there: ${(error as Error).message}`);
      await rm(partial, { recursive: true, force: true });
    }
    // a checkpoint that failed may have left the sandbox running: it answers, or runsc stopped it
    const running = !saved && (await Promise.race([client.ping().then(() => true, () => false), this.exited.then(() => false)]));
    const lost = running ? '' : await this.#runOnFrom(saved ? image : undefined);
    await rm(image, { recursive: true, force: true });
    if (!lost && wasPaused) await this.pause();
    if (failure) throw new Error(failure.message + lost);
    if (lost) throw new Error(`${this.id}: snapshot ${dir} was written${lost}`);
    return info!;
  }

  /** After runsc stopped the sandbox: restore it in place from `imageDir`; '' when it runs on, else why it was destroyed. */
  async #runOnFrom(imageDir: string | undefined): Promise<string> {
    try {
      if (imageDir === undefined) throw new Error(`runsc stopped it (${await this.exited}) without a whole image`);
      await this.#relaunch(imageDir);
      return '';
    } catch (error) {
      const teardown = await this.destroyAfterFailure();
      return `; the sandbox could not run on and was destroyed: ${(error as Error).message}${teardown}`;
    }
  }

  /** `runsc restore` of this sandbox's own container from `imageDir`, the agent's channel adopted where the old one ended. */
  async #relaunch(imageDir: string): Promise<void> {
    const old = this.client!;
    const oldPid = this.child?.pid;
    if (oldPid !== undefined) {
      this.resources.processGroups.delete(oldPid);
      this.resources.processTrees.delete(oldPid);
    }
    const args = runtimeArgs(this.runtime, this.paths.state, ['restore', '--image-path', imageDir, '--bundle', this.paths.bundle, this.id]);
    const child = await this.launch(whichOnce('setpriv') ?? 'setpriv', ['--pdeathsig', 'KILL', '--', this.runtime.command, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      keep: ['stderr'],
      tree: true,
    });
    this.client = AgentClient.adopt(child.stdout!, child.stdin!, old.hello, old.nextId);
    await Promise.race([
      this.client.ping(),
      this.exited.then((how) => {
        throw new Error(`runsc restore ${how}${this.output.trim() ? `: ${this.output.trim()}` : ''}`);
      }),
    ]);
    this.#uids = this.readHostUids();
  }

  /** The staged rootfs's key, from the bundle's root path (<stage root>/<key>/rootfs). */
  rootfsKey(): string {
    const config = JSON.parse(readFileSync(join(this.paths.bundle, 'config.json'), 'utf8')) as OciConfig;
    return basename(dirname(config.root.path));
  }

  /** Start as RuncSandbox does, then read the host uids of runsc's processes (they are there once the agent answered). */
  override async start(signal?: AbortSignal, t0?: number): Promise<this> {
    try {
      await super.start(signal, t0);
    } catch (error) {
      // a failed restore is runsc's to explain (an image it cannot load)
      const said = this.output.trim().split('\n').at(-1)?.trim();
      if (this.restoreFrom && said && !(error as Error).message.includes(said)) (error as Error).message += `; runsc restore said: ${said}`;
      throw error;
    }
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
