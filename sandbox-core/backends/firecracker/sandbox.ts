/**
 * One Firecracker microVM: `firecracker --api-sock` under `setpriv
 * --pdeathsig KILL` in its own process group, configured and booted through
 * its API socket, the agent reached over vsock (Firecracker's only
 * host-guest channel: a unix socket in the sandbox's temp dir plus the
 * CONNECT handshake). Pause and resume are `PATCH /vm`; memory is the PSS of
 * the firecracker process, which holds the guest's RAM; destroy is SIGKILL
 * of the group and removal of the temp dir.
 */
import { join } from 'node:path';
import { makeSandboxTempDir, trackSandbox } from '../../cleanup.ts';
import { AgentSandbox, SANDBOX_ID_ENV } from '../agent-sandbox.ts';
import { memoryOf } from '../memory.ts';
import type { SandboxSpec, SandboxStats } from '../types.ts';
import { callAll, callApi, waitForApi } from './api.ts';
import { AGENT_VSOCK_PORT, microVmSetup, START_INSTANCE, vmState } from './config.ts';
import { agentOverVsock } from './vsock.ts';

const FIRECRACKER_READY_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_MIB = 256;

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

export class FirecrackerSandbox extends AgentSandbox {
  #api: string | undefined;
  #paused = false;

  constructor(spec: SandboxSpec) {
    super('firecracker', spec);
  }

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
      await this.launch(launch.setpriv, ['--pdeathsig', 'KILL', '--', launch.firecracker, '--api-sock', api, '--id', this.id], {
        env: { ...process.env, [SANDBOX_ID_ENV]: this.id },
        stdio: ['ignore', 'pipe', 'pipe'],
        // stdout carries the guest's serial console, stderr the VMM's own complaints
        keep: ['stdout', 'stderr'],
        tree: true,
      });
      void this.exited.then((how) => died.abort(new Error(`firecracker ${how}`)));
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
      this.client = await agentOverVsock(vsock, AGENT_VSOCK_PORT, { timeoutMs: remaining(), signal: stop });
      this.phases.connected = since();
      this.bootStages = this.client.hello.stages;
      await this.client.ping();
      this.phases.ready = since();
    } catch (error) {
      const cause = stop.aborted && stop.reason instanceof Error ? stop.reason : (error as Error);
      const teardown = await this.destroyAfterFailure();
      const output = this.output.trim();
      throw new Error(`${this.id}: ${cause.message}${output ? `; firecracker printed:\n${output}` : ''}${teardown}`, { cause });
    }
  }

  /** Pauses every vCPU (PATCH /vm); requests wait in the channel until resume(). */
  protected async pauseProcesses(): Promise<void> {
    if (this.#paused) return;
    this.agent();
    await callApi(this.#api!, vmState('Paused'));
    this.#paused = true;
  }

  protected async resumeProcesses(): Promise<void> {
    if (!this.#paused) return;
    await callApi(this.#api!, vmState('Resumed'));
    this.#paused = false;
  }

  /** Host memory of the firecracker process (the VMM and the guest RAM it touched), as PSS. */
  async stats(): Promise<SandboxStats> {
    const pid = this.launcherPid();
    const reading = memoryOf(pid === undefined ? [] : [pid]);
    return { memory: { ...reading, method: `${reading.method}, of the firecracker process` }, processes: pid === undefined ? 0 : 1 };
  }

  protected async reap(): Promise<void> {
    // the guest keeps nothing worth a clean shutdown (read-only root, workspace in its RAM): SIGKILL at once
    this.killGroups();
    await this.exited;
    this.killGroups();
  }
}
