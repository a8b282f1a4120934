/**
 * One Firecracker microVM: `firecracker --api-sock` under `setpriv
 * --pdeathsig KILL` in its own process group, configured and booted through
 * its API socket, the agent reached over vsock (Firecracker's only
 * host-guest channel: a unix socket in the sandbox's temp dir plus the
 * CONNECT handshake). Pause and resume are `PATCH /vm`; memory is the PSS of
 * the firecracker process, which holds the guest's RAM; destroy is SIGKILL
 * of the group and removal of the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentClient } from '../../agent/client.ts';
import { makeSandboxTempDir, newResources, trackSandbox, untrackSandbox, type SandboxResources, type TrackedSandbox } from '../../cleanup.ts';
import { SANDBOX_ID_ENV, signalQuietly } from '../child-sandbox.ts';
import { memoryOf } from '../memory.ts';
import type { BootStage, ExecRequest, ExecResult, Phases, Sandbox, SandboxSpec, SandboxStats } from '../types.ts';
import { callAll, callApi, waitForApi } from './api.ts';
import { AGENT_VSOCK_PORT, microVmSetup, START_INSTANCE, vmState } from './config.ts';
import { agentOverVsock } from './vsock.ts';

export const FIRECRACKER_READY_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_MIB = 256;
/** Bytes of firecracker's output (its log and the guest's serial console) kept to explain a failed start. */
const OUTPUT_TAIL_BYTES = 4096;

/** What boots: an ELF vmlinux, an initramfs whose /init starts the agent on vsock, the read-only root image. */
export interface FirecrackerGuest {
  kernel: string;
  initramfs: string;
  rootImage: string;
  /** Kernel command line. */
  bootArgs: string;
}

export interface FirecrackerLaunch {
  firecracker: string;
  setpriv: string;
  guest: FirecrackerGuest;
  /** ms since create() when the guest image was known. */
  preparedMs: number;
}

export class FirecrackerSandbox implements Sandbox, TrackedSandbox {
  readonly id = `firecracker-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly backend = 'firecracker';
  readonly phases: Phases = {};
  readonly resources: SandboxResources = newResources();
  bootStages: BootStage[] = [];

  #child: ChildProcess | undefined;
  #exited: Promise<string> = Promise.resolve('never started');
  #api: string | undefined;
  #client: AgentClient | undefined;
  #outputTail = '';
  #paused = false;
  #destroyed: Promise<void> | undefined;

  constructor(private readonly spec: SandboxSpec) {}

  /** Launch, configure, boot, wait for HELLO and the first PONG; on failure everything is reclaimed and the error names the cause. */
  async start(prepare: () => Promise<FirecrackerLaunch>, signal?: AbortSignal): Promise<void> {
    const t0 = performance.now();
    const since = (): number => performance.now() - t0;
    const timeoutMs = this.spec.readyTimeoutMs ?? FIRECRACKER_READY_TIMEOUT_MS;
    const remaining = (): number => Math.max(1, timeoutMs - since());
    trackSandbox(this);
    // the VMM dying stops every wait below at once instead of at the timeout
    const died = new AbortController();
    const stop = signal ? AbortSignal.any([signal, died.signal]) : died.signal;
    try {
      const launch = await prepare();
      this.phases.prepared = launch.preparedMs;
      stop.throwIfAborted();
      const dir = makeSandboxTempDir(this.resources, 'firecracker');
      const api = join(dir, 'api.sock');
      const vsock = join(dir, 'v.sock');
      this.#launch(launch.setpriv, ['--pdeathsig', 'KILL', '--', launch.firecracker, '--api-sock', api, '--id', this.id]);
      void this.#exited.then((how) => died.abort(new Error(`firecracker ${how}`)));
      this.phases.launched = since();
      await waitForApi(api, remaining(), stop);
      this.#api = api;
      const { guest } = launch;
      const setup = microVmSetup({
        kernelPath: guest.kernel,
        initrdPath: guest.initramfs,
        bootArgs: guest.bootArgs,
        rootfsPath: guest.rootImage,
        vcpuCount: 1,
        memSizeMib: this.spec.memoryMiB ?? DEFAULT_MEMORY_MIB,
        vsockPath: vsock,
      });
      await callAll(api, [...setup, START_INSTANCE]);
      this.phases.started = since();
      this.#client = await agentOverVsock(vsock, AGENT_VSOCK_PORT, { timeoutMs: remaining(), signal: stop });
      this.phases.connected = since();
      this.bootStages = this.#client.hello.stages;
      await this.#client.ping();
      this.phases.ready = since();
    } catch (error) {
      const cause = stop.aborted && stop.reason instanceof Error ? stop.reason : (error as Error);
      await this.destroy();
      const output = this.#outputTail.trim();
      throw new Error(`${this.id}: ${cause.message}${output ? `; firecracker printed:\n${output}` : ''}`, { cause });
    }
  }

  #launch(setpriv: string, args: string[]): void {
    const child = spawn(setpriv, args, {
      detached: true, // its own process group, so one kill(-pgid) reaches all of it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [SANDBOX_ID_ENV]: this.id },
    });
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exited with code ${code}`));
      child.once('error', (error) => child.pid === undefined && resolve(`could not start: ${error.message}`));
    });
    // stdout carries the guest's serial console, stderr the VMM's own complaints
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        this.#outputTail = (this.#outputTail + chunk).slice(-OUTPUT_TAIL_BYTES);
      });
    }
    if (child.pid === undefined) throw new Error(`${setpriv} could not be started`);
    this.resources.processGroups.add(child.pid);
    this.resources.processTrees.add(child.pid);
  }

  /** The channel, or an error saying why there is none. */
  #agent(): AgentClient {
    if (!this.#client || this.#destroyed) throw new Error(`${this.id}: sandbox is destroyed`);
    return this.#client;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const env = this.spec.env || request.env ? { ...this.spec.env, ...request.env } : undefined;
    return this.#agent().exec({ ...request, env });
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    return this.#agent().writeFile(path, data, mode);
  }

  async readFile(path: string): Promise<Buffer> {
    return this.#agent().readFile(path);
  }

  async ping(): Promise<number> {
    return this.#agent().ping();
  }

  /** Pauses every vCPU (PATCH /vm); requests wait in the channel until resume(). */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#agent();
    await callApi(this.#api!, vmState('Paused'));
    this.#paused = true;
  }

  async resume(): Promise<void> {
    if (!this.#paused) return;
    await callApi(this.#api!, vmState('Resumed'));
    this.#paused = false;
  }

  /** Host memory of the firecracker process (the VMM and the guest RAM it touched), as PSS. */
  async stats(): Promise<SandboxStats> {
    const pid = this.#child?.pid;
    const alive = pid !== undefined && this.#child!.exitCode === null && this.#child!.signalCode === null;
    const reading = memoryOf(alive ? [pid] : []);
    return { memory: { ...reading, method: `${reading.method}, of the firecracker process` }, processes: alive ? 1 : 0 };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  async #teardown(): Promise<void> {
    this.#client?.close();
    // the guest keeps nothing worth a clean shutdown (read-only root, workspace in its RAM): SIGKILL at once
    this.#kill();
    await this.#exited;
    this.#kill();
    await Promise.all([...this.resources.tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
    untrackSandbox(this);
  }

  #kill(): void {
    for (const pgid of this.resources.processGroups) signalQuietly(-pgid, 'SIGKILL');
  }
}
