/**
 * One qemu guest: qemu-system-x86_64 under `setpriv --pdeathsig KILL` in its
 * own process group (phase `launched`: qemu itself running, its pid file written), the agent as the guest's PID 1 behind a virtio-serial
 * port whose host side is a unix socket in the sandbox's temp dir, QMP beside
 * it for pause (stop/cont) and quit, the serial console on qemu's stdout:
 * the host stamps the moment /init's first line arrives (phase `init`, host
 * clock) and keeps the last lines to explain a guest that never answered.
 * With egress, the relays qemu starts per guest connection share the slots of
 * `relays/` in the temp dir (at most spec.egress.maxRelays, default
 * DEFAULT_MAX_RELAYS, at once); each one refused for want of a slot leaves a
 * line in `relays/refused`, which the host follows and hands to
 * spec.egress.onRelayRefused as an audit record.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, mkdirSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AuditRecord } from '../../audit/audit-log.ts';
import { AgentClient } from '../../agent/client.ts';
import { makeSandboxRunDir, makeSandboxShmDir, trackSandbox } from '../../cleanup.ts';
import type { GuestImage } from '../../images/guest-image.ts';
import { acquireHostIds, killProcessesOf, type HostIds } from '../../isolation/host-ids.ts';
import { limitsOf } from '../../isolation/limits.ts';
import { checkConnectable } from '../../isolation/reachable.ts';
import { readableBySandboxes } from '../../isolation/stage.ts';
import { GUEST_EXEC_UID, guestKernelParams, INIT_MARKER } from '../../images/guest/init-script.ts';
import { AgentSandbox, SANDBOX_ID_ENV } from '../agent-sandbox.ts';
import { EGRESS_ADDRESSES, egressEnv } from '../egress-env.ts';
import { memoryOf } from '../memory.ts';
import type { ForkInfo, IsolationFacts, SandboxSpec, SandboxStats, SnapshotInfo } from '../types.ts';
import { copyForImage, partialDirFor, type CopyKind } from '../image-copy.ts';
import { loadState, saveState } from './migration.ts';
import { MANIFEST_FILE, savedSpec } from '../snapshot-manifest.ts';
import { RAM_FILE, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, STATE_FILE, type SnapshotManifest } from './snapshot-manifest.ts';
import { busOf, kernelCommandLine, qemuArgs, type Accel, type Machine } from './qemu-args.ts';
import { watchForFile, type PidFileWatch } from './pid-file.ts';
import { QmpClient } from './qmp.ts';

/** qemu's -pidfile in the sandbox's run dir. */
const PID_FILE = 'qemu.pid';
/** A TCG boot takes seconds, more on a loaded host. */
const QEMU_READY_TIMEOUT_MS = 60_000;
export const DEFAULT_MEMORY_MIB = 256;
/** Host relay processes (`rigor-agent --relay`, one per guest connection to the proxy or resolver) a guest may have at once, unless spec.egress.maxRelays says otherwise. */
export const DEFAULT_MAX_RELAYS = 32;
/** The cloud kernel with this image panics out of memory at 72 MiB and boots at 80. */
export const MIN_MEMORY_MIB = 96;
/** How long destroy() waits for qemu to quit over QMP before SIGKILL. */
const QUIT_GRACE_MS = 2000;
const CONSOLE_TAIL_LINES = 12;
/** Console text kept for errors (the tail is what explains a failure). */
const CONSOLE_KEEP_CHARS = 64 * 1024;
/** How long a failed start waits for qemu's own exit before explaining it. */
const EXIT_WAIT_MS = 1000;
/** Console lines that name why a guest died. */
const CAUSE_LINE = /Kernel panic|rigor-init:|Out of memory/;
/** qemu's note on stderr that it waits for the agent socket: expected, not a cause. */
const WAITING_NOTE = /^.*info: QEMU waiting for connection on:.*$/gm;

export interface QemuLaunch {
  qemu: string;
  setpriv: string;
  image: GuestImage;
  machine: Machine;
  accel: Accel;
  /** Why this accel: the KVM probe's verdict, or "forced by the backend options". */
  accelReason: string;
  /** Capability numbers the agent leaves to commands. */
  execCaps: number[];
  /** Host TSC rate for a TCG guest (tsc.ts); null = the guest calibrates. */
  tscKhz: number | null;
  /** ms since create() when the image and the accel were known. */
  preparedMs: number;
  /** The host's agent binary, which qemu starts as `--relay` per egress connection. */
  relay: string;
  /** The kernel command-line preset (kernel/cmdline) and the words it adds. */
  cmdline: { preset: string; words: string[] };
  /** `qemu-system-x86_64 --version`'s first line: a snapshot records it. */
  qemuVersion: string;
}

/** A restore: the snapshot's directory, its manifest (checked against this host) and its device state (checked against the manifest). */
export interface RestoreFrom {
  dir: string;
  manifest: SnapshotManifest;
  state: Buffer;
}

/** Bytes of entropy a restored guest's kernel is given (RESEED). */
const RESEED_BYTES = 64;

/**
 * Follows the relays' `refused` file (agent.c record_refusal: one line "EPOCH_MS PID SOCKET REASON" per
 * refused connection, each appended in one write). At every inotify event (fs.watch) it reads all that
 * was added since its last read, so events the kernel merges lose no line; stop() reads once more.
 */
class RefusalFollower {
  readonly #fd: number;
  readonly #watcher: FSWatcher;
  #offset = 0;
  #partial = Buffer.alloc(0);
  #stopped = false;

  constructor(
    path: string,
    private readonly onLine: (line: string) => void,
  ) {
    this.#fd = openSync(path, 'a+', 0o600);
    this.#watcher = watch(path, () => this.#read());
    // The file lives in the sandbox's temp dir until teardown, after stop(): an error here has nothing left to follow.
    this.#watcher.on('error', () => undefined);
    this.#read();
  }

  #read(): void {
    if (this.#stopped) return;
    const chunk = Buffer.alloc(16384);
    let n: number;
    while ((n = readSync(this.#fd, chunk, 0, chunk.length, this.#offset)) > 0) {
      this.#offset += n;
      this.#partial = Buffer.concat([this.#partial, chunk.subarray(0, n)]);
    }
    let end: number;
    while ((end = this.#partial.indexOf(10)) >= 0) {
      const line = this.#partial.subarray(0, end).toString('utf8');
      this.#partial = this.#partial.subarray(end + 1);
      if (line !== '') this.onLine(line);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#read();
    this.#stopped = true;
    this.#watcher.close();
    closeSync(this.#fd);
  }
}

export class QemuSandbox extends AgentSandbox {
  #launch: QemuLaunch | undefined;
  #refusals: RefusalFollower | undefined;
  #qmp: QmpClient | undefined;
  /** The host uid qemu (and its relays) run as; released once they are gone. */
  #ids: HostIds | undefined;
  #console = '';
  #append: string | undefined;
  #paused = false;
  /** The run dir (its sockets) and guest RAM's file. */
  #runDir: string | undefined;
  #ramFile: string | undefined;

  constructor(spec: SandboxSpec) {
    const env = spec.egress ? egressEnv(EGRESS_ADDRESSES.qemu.proxy, spec.egress.dnsSocket ? EGRESS_ADDRESSES.qemu.dns : undefined) : undefined;
    super('qemu', env ? { ...spec, env: { ...env, ...spec.env } } : spec);
  }

  /** Commands run as nobody in the guest's own kernel, their processes bounded by RLIMIT_NPROC; the VM's size bounds memory, and half of it the workspace unless the spec sizes it. */
  get isolation(): IsolationFacts {
    const memoryMiB = this.spec.memoryMiB ?? DEFAULT_MEMORY_MIB;
    return {
      seccomp: 'none: the guest kernel is the boundary',
      commandUid: GUEST_EXEC_UID,
      commandHostUid: 'guest',
      ...(this.#ids ? { vmmHostUid: this.#ids.agent } : {}),
      limits: { pids: limitsOf(this.spec).pids, memoryMiB, workspaceMiB: this.spec.workspaceMiB ?? Math.floor(memoryMiB / 2) },
    };
  }

  /** What artifacts say of how this guest ran: the accelerator (KVM or TCG) and the guest's kernel and command line. */
  get facts(): Record<string, unknown> {
    const guest = this.guest;
    return { ...(this.accel ? { accel: this.accel } : {}), ...(guest ? { guest } : {}) };
  }

  /** Which accelerator ran the guest: artifacts say KVM or TCG. */
  get accel(): Accel | undefined {
    return this.#launch?.accel;
  }

  /** Why that accelerator: the KVM probe's verdict. */
  get accelReason(): string {
    return this.#launch?.accelReason ?? '';
  }

  get machine(): Machine | undefined {
    return this.#launch?.machine;
  }

  /** What an artifact says about this guest's boot: kernel (version, sha256, and the project's build facts), preset, command line. */
  get guest(): Record<string, unknown> | undefined {
    const launch = this.#launch;
    if (!launch) return undefined;
    const { kernel } = launch.image.manifest;
    return {
      machine: launch.machine,
      kernel: {
        version: kernel.version,
        sha256: kernel.sha256,
        file: launch.image.kernel,
        ...(kernel.build ? { build: kernel.build } : {}),
        // What qemu's -kernel loads: the unpacked ELF where one could be had, else the file itself.
        boot: { format: launch.image.boot.format, file: launch.image.boot.file },
      },
      cmdline_preset: launch.cmdline.preset,
      cmdline: this.#append,
    };
  }

  /**
   * Launch, connect, wait for HELLO and the first PONG. `prepare` resolves the
   * image and accelerator (cached after the first call); on any failure
   * everything is reclaimed and the error names the cause with the console's last lines.
   */
  async start(prepare: () => Promise<QemuLaunch>, signal?: AbortSignal, restore?: RestoreFrom): Promise<void> {
    const t0 = performance.now();
    const since = (): number => performance.now() - t0;
    trackSandbox(this);
    const timeoutMs = this.spec.readyTimeoutMs ?? QEMU_READY_TIMEOUT_MS;
    let failure: Error | undefined;
    const fail = (error: Error): void => {
      failure ??= error;
      this.killGroups();
    };
    let timer: NodeJS.Timeout | undefined;
    let pidWatch: PidFileWatch | undefined;
    const onAbort = (): void => fail(signal?.reason instanceof Error ? signal.reason : new Error('create aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      // Preparing may build the guest kernel (minutes, once): the ready timeout counts from the launch.
      const launch = await prepare();
      timer = setTimeout(() => fail(new Error(`the guest did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      this.phases.prepared = launch.preparedMs;
      // A timeout, abort or destroy() while preparing found nothing to kill: launch nothing.
      if (failure !== undefined) throw failure;
      if (this.destroying) throw new Error('destroyed while starting');
      this.#launch = launch;
      // qemu runs as a host uid of this sandbox's own: it makes its sockets in its run dir, its relays their slots.
      const ids = acquireHostIds();
      this.#ids = ids;
      this.resources.lastResort.push(() => ids.release());
      const dir = makeSandboxRunDir(this.resources, 'qemu', ids.agent);
      this.#runDir = dir;
      const ramFile = join(makeSandboxShmDir(this.resources, 'qemu', ids.agent), 'ram');
      this.#ramFile = ramFile;
      if (restore) {
        // Each restore maps a copy of its own: qemu 7.2 opens a RAM file read-write even to map it private,
        // and a restore that could write the snapshot's would reach every later one.
        await copyForImage(join(restore.dir, RAM_FILE), ramFile);
        chownSync(ramFile, ids.agent, ids.agent);
        this.phases.ramCopied = since();
      }
      const files = await this.#reachable(launch);
      const agentSocket = join(dir, 'agent.sock');
      const qmpSocket = join(dir, 'qmp.sock');
      const pidFile = join(dir, PID_FILE);
      const egress = this.spec.egress;
      if (egress) {
        // the relays qemu starts run as its uid and connect to these sockets
        await checkConnectable(egress.proxySocket, 'sandbox spec egress.proxySocket');
        if (egress.dnsSocket) await checkConnectable(egress.dnsSocket, 'sandbox spec egress.dnsSocket');
      }
      const relaySlots = egress ? this.#relaySlots(dir, egress, ids.agent) : undefined;
      const append = restore ? restore.manifest.append : kernelCommandLine(launch.cmdline.words, guestKernelParams({ bus: busOf(launch.machine), execCaps: launch.execCaps, net: egress !== undefined, workspaceMiB: this.spec.workspaceMiB, pidsLimit: limitsOf(this.spec).pids }), launch.tscKhz);
      this.#append = append;
      const args = qemuArgs({
        machine: launch.machine,
        accel: launch.accel,
        memoryMiB: this.spec.memoryMiB ?? DEFAULT_MEMORY_MIB,
        kernel: files.kernel,
        initramfs: files.initramfs,
        rootImage: files.rootImage,
        append,
        agentSocket,
        qmpSocket,
        pidFile,
        ramFile,
        incoming: restore !== undefined,
        ...(egress ? { egress: { relay: files.relay, proxySocket: egress.proxySocket, ...(egress.dnsSocket ? { dnsSocket: egress.dnsSocket } : {}), relaySlots } } : {}),
      });
      // `launched` is qemu running, not setpriv spawned: setpriv still has to drop to the uid and exec qemu, and qemu to load.
      pidWatch = watchForFile(dir, PID_FILE, () => (this.phases.launched = since()));
      const child = await this.launch(launch.setpriv, [...dropTo(ids.agent, launch.accel), '--pdeathsig', 'KILL', '--', launch.qemu, ...args], {
        env: { ...process.env, [SANDBOX_ID_ENV]: this.id },
        stdio: ['ignore', 'pipe', 'pipe'],
        keep: ['stderr'],
        // its group is all there is to reclaim: the egress relays qemu starts are not in it (libslirp spawns each in its
        // own session, reparented to init) and end by themselves when qemu's end of their connection closes
        tree: false,
      });
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        // The marker may arrive split across chunks: look in the kept text's end too.
        const seen = this.#console.slice(-INIT_MARKER.length) + chunk;
        if (this.phases.init === undefined && seen.includes(INIT_MARKER)) this.phases.init = since();
        this.#console = (this.#console + chunk).slice(-CONSOLE_KEEP_CHARS);
      });
      const channel = await this.#connectWhenListening(agentSocket, () => failure);
      // qemu runs its main loop (and answers QMP) only once the agent socket is connected.
      const qmp = QmpClient.connect(qmpSocket);
      qmp.catch(() => undefined);
      if (restore) {
        this.#qmp = await qmp;
        await loadState(this.#qmp, dir, restore.state);
        this.phases.loaded = since();
        await this.#qmp.execute('cont');
        // The agent said HELLO before the save; it goes on where the saved one stopped.
        const { hello, next_id } = restore.manifest.agent;
        this.client = AgentClient.adopt(channel, channel, hello, next_id);
        this.phases.connected = since();
        this.bootStages = hello.stages;
        // Fresh: its own random numbers and the host's time, not those of the moment it was saved.
        await this.client.reseed(randomBytes(RESEED_BYTES), Math.round((performance.timeOrigin + performance.now()) * 1000));
      } else {
        this.client = await AgentClient.connect(channel, channel, { helloTimeoutMs: timeoutMs });
        this.phases.connected = since();
        this.bootStages = this.client.hello.stages;
        this.#qmp = await qmp;
      }
      await this.client!.ping();
      // qemu wrote the file before it made the agent socket; its event was delivered long before the guest answered.
      if (this.phases.launched === undefined) throw new Error(`qemu answered but its pid file ${pidFile} never appeared`);
      this.phases.ready = since();
    } catch (error) {
      const reason = failure ?? (error as Error);
      // A channel that ended usually means qemu is exiting: let it finish saying why.
      if (failure === undefined) await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, EXIT_WAIT_MS))]);
      const explained = await this.#explain(reason);
      explained.message += await this.destroyAfterFailure();
      throw explained;
    } finally {
      pidWatch?.close();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The files qemu opens, where its unprivileged uid can read them: staged when root's cache hides them. */
  async #reachable(launch: QemuLaunch): Promise<{ kernel: string; initramfs: string; rootImage: string; relay: string }> {
    const [kernel, initramfs, rootImage, relay] = await Promise.all(
      [launch.image.boot.file, launch.image.initramfs, launch.image.rootImage, launch.relay].map((path) => readableBySandboxes(path)),
    );
    return { kernel: kernel!, initramfs: initramfs!, rootImage: rootImage!, relay: relay! };
  }

  /** The relays' slot dir in the sandbox's temp dir (theirs: they run as qemu's uid) and their cap; refusals followed when the spec wants to hear of them. */
  #relaySlots(dir: string, egress: NonNullable<SandboxSpec['egress']>, uid: number): { dir: string; max: number } {
    const slots = join(dir, 'relays');
    const max = egress.maxRelays ?? DEFAULT_MAX_RELAYS;
    mkdirSync(slots);
    chownSync(slots, uid, uid);
    const report = egress.onRelayRefused;
    if (report) {
      this.#refusals = new RefusalFollower(join(slots, 'refused'), (line) => {
        try {
          report(this.#refusalRecord(line, egress, max));
        } catch (error) {
          // The connection was refused either way; a record the caller could not keep must still be seen.
          process.emitWarning(`${this.id}: a refused relay connection was not recorded: ${(error as Error).message} (${line})`);
        }
      });
      chownSync(join(slots, 'refused'), uid, uid); // made by the follower; appended to by the relays
    }
    return { dir: slots, max };
  }

  /** A line of the refused file as an audit record: the guest's connection to the proxy or resolver address, blocked by the relay cap. */
  #refusalRecord(line: string, egress: NonNullable<SandboxSpec['egress']>, max: number): AuditRecord {
    const match = /^(\d+) (\d+) (\S+) (.+)$/.exec(line);
    const socket = match?.[3];
    const dns = socket !== undefined && socket === egress.dnsSocket;
    const to = dns ? EGRESS_ADDRESSES.qemu.dns : EGRESS_ADDRESSES.qemu.proxy;
    return {
      kind: dns ? 'dns' : 'http',
      sandbox: this.id,
      subject: `${to.host}:${to.port}`,
      detail: match ? { reason: match[4], relayCap: max, relayPid: Number(match[2]), socket } : { reason: `unreadable refusal line: ${line}`, relayCap: max },
      ruleId: null,
      decision: 'block',
      at: match ? Number(match[1]) : Date.now(),
    };
  }

  /** The agent socket, connected as soon as qemu listens on it; rejects when qemu exits or start() failed first. */
  async #connectWhenListening(path: string, failed: () => Error | undefined): Promise<Socket> {
    let exit: string | undefined;
    void this.exited.then((how) => (exit = how));
    for (;;) {
      const stop = failed();
      if (stop) throw stop;
      if (exit !== undefined) throw new Error(`qemu ${exit} before it listened on the agent socket`);
      const socket = await new Promise<Socket | null>((resolve) => {
        const attempt = connect(path);
        attempt.once('connect', () => resolve(attempt));
        attempt.once('error', () => resolve(null));
      });
      if (socket) return socket;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The error create() throws: the cause, how qemu ended, its stderr and the console's last lines. */
  async #explain(error: Error): Promise<Error> {
    const parts = [`${this.id}: ${error.message}`];
    const child = this.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      // -no-reboot: a guest that powers off, resets or panics (panic=-1) ends qemu with status 0
      parts.push(child.exitCode === 0 ? 'qemu exited with code 0 (the guest powered off, reset or panicked)' : `qemu ${await this.exited}`);
    }
    const stderr = this.output.replace(WAITING_NOTE, '').trim();
    if (stderr) parts.push(`qemu said: ${stderr}`);
    const lines = this.#consoleTail();
    parts.push(lines ? `last console lines:\n${lines}` : 'the console printed nothing');
    return new Error(parts.join('; '));
  }

  #consoleTail(): string {
    const lines = this.#console
      // terminal escapes from the firmware (SeaBIOS on pc)
      .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1bc/g, '')
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '');
    const tail = lines.slice(-CONSOLE_TAIL_LINES);
    // A panic's cause comes before its backtrace, which alone would fill the tail.
    const cause = lines.slice(0, -CONSOLE_TAIL_LINES).filter((line) => CAUSE_LINE.test(line));
    return [...cause, ...(cause.length > 0 ? ['...'] : []), ...tail].join('\n');
  }

  /**
   * Saves the guest (device state through qemu's migration stream, guest RAM — the workspace's tmpfs
   * with it — as a sparse copy of its file) into a temp dir beside `dir`, renamed to `dir` when whole;
   * on any failure the temp dir goes and the guest runs on. Paused while it saves.
   */
  async snapshot(dir: string): Promise<SnapshotInfo> {
    const { info } = await this.#save(dir, 'snapshot');
    return info;
  }

  /**
   * A fork image: a snapshot (RAM — the workspace's tmpfs and whatever the guest wrote in RAM — and device
   * state; the root image is read-only and shared), which Backend.fromFork restores as a new guest while this
   * one runs on. The RAM file is cloned where its filesystem clones, else copied sparse; `copy` says which.
   */
  async fork(dir: string): Promise<ForkInfo> {
    const { info, copy } = await this.#save(dir, 'fork');
    return { dir, forkMs: info.saveMs, bytes: info.bytes, allocatedBytes: info.allocatedBytes, copy, holds: 'guest RAM (workspace and every tmpfs in it) and device state; the root image is read-only and shared' };
  }

  async #save(dir: string, verb: 'snapshot' | 'fork'): Promise<{ info: SnapshotInfo; copy: CopyKind }> {
    const t0 = performance.now();
    const client = this.agent();
    const launch = this.#launch!;
    if (this.spec.egress) throw new Error(`${this.id}: ${verb}: a guest with egress is not saved (its user network's connections and host relays would not survive a restore)`);
    const partial = await partialDirFor(dir, verb);
    const wasPaused = this.#paused;
    // A pause that fails leaves no partial directory either.
    await this.pause().catch(async (error: unknown) => {
      await rm(partial, { recursive: true, force: true });
      throw error;
    });
    try {
      const state = await saveState(this.#qmp!, this.#runDir!, this.#ids!.agent, join(partial, STATE_FILE));
      const copy = await copyForImage(this.#ramFile!, join(partial, RAM_FILE));
      const ram = await stat(join(partial, RAM_FILE));
      const { kernel } = launch.image.manifest;
      const spec = this.spec;
      const manifest: SnapshotManifest = {
        format: SNAPSHOT_FORMAT,
        version: SNAPSHOT_VERSION,
        saved_at: new Date().toISOString(),
        qemu: launch.qemuVersion,
        kernel: { version: kernel.version, sha256: kernel.sha256 },
        image: launch.image.manifest.key,
        machine: launch.machine,
        accel: launch.accel,
        memory_mib: spec.memoryMiB ?? DEFAULT_MEMORY_MIB,
        append: this.#append!,
        spec: savedSpec(spec, ['memoryMiB', 'pidsLimit', 'workspaceMiB', 'capabilities', 'env']),
        agent: { hello: client.hello, next_id: client.nextId },
        files: { state, ram: { bytes: ram.size, allocated_bytes: ram.blocks * 512 } },
      };
      await writeFile(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      await rename(partial, dir);
      const info = { dir, saveMs: performance.now() - t0, bytes: state.bytes + ram.size, allocatedBytes: (await stat(join(dir, STATE_FILE))).blocks * 512 + ram.blocks * 512 };
      return { info, copy };
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw new Error(`${this.id}: ${verb} to ${dir} failed, nothing was written there: ${(error as Error).message}`);
    } finally {
      if (!wasPaused) await this.resume();
    }
  }

  /** Stops the guest's vCPU (QMP stop): requests wait in the channel until resume(). */
  protected async pauseProcesses(): Promise<void> {
    if (this.#paused) return;
    await this.#control('stop');
    this.#paused = true;
  }

  protected async resumeProcesses(): Promise<void> {
    if (!this.#paused) return;
    await this.#control('cont');
    this.#paused = false;
  }

  async #control(command: 'stop' | 'cont'): Promise<void> {
    this.agent();
    await this.#qmp!.execute(command);
  }

  /** Host memory of the qemu process (guest RAM it touched included), as PSS. */
  async stats(): Promise<SandboxStats> {
    const pid = this.launcherPid();
    return { memory: memoryOf(pid === undefined ? [] : [pid]), processes: pid === undefined ? 0 : 1 };
  }

  protected async reap(): Promise<void> {
    if (this.launcherPid() !== undefined) {
      if (this.#qmp) this.#qmp.execute('quit').catch(() => this.killGroups());
      else this.killGroups();
      const force = setTimeout(() => this.killGroups(), QUIT_GRACE_MS);
      await this.exited;
      clearTimeout(force);
    }
    this.#qmp?.close();
    // qemu is reaped; sweep its group in case anything stayed in it.
    this.killGroups();
    // Relays are not in qemu's group: whatever still runs as its uid goes before the uid is handed on.
    if (this.#ids) killProcessesOf(this.#ids.agent);
    // No relay is left to write: the last refusals, then stop following.
    this.#refusals?.stop();
    this.#ids?.release();
  }
}

/**
 * setpriv's options that run qemu as `uid` with no supplementary group — but
 * /dev/kvm's group under KVM, which that device needs.
 */
function dropTo(uid: number, accel: Accel): string[] {
  const groups = accel === 'kvm' ? ['--groups', String(statSync('/dev/kvm').gid)] : ['--clear-groups'];
  return ['--reuid', String(uid), '--regid', String(uid), ...groups];
}
