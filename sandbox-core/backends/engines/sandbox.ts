/**
 * One engine container whose process is the agent, talking over the stdio of
 * an attached `<engine> run --interactive` (the engine relays the container's
 * stdin and stdout through the CLI). Launch, HELLO, PONG, exec and files are
 * ChildSandbox's; what differs is that the processes belong to the engine,
 * not to us: pause is `<engine> pause` (its freezer), memory is what
 * `<engine> stats` reports, and teardown ends with `<engine> rm --force`.
 *
 * The CLI runs under `setpriv --pdeathsig KILL`: when rigor is SIGKILLed the
 * CLI dies, the engine closes the container's stdin (-i attached sets
 * StdinOnce), the agent exits at end of stream, and the stopped container
 * left behind is removed by the next create() (stale.ts).
 */
import { makeSandboxTempDir } from '../../cleanup.ts';
import { AGENT_IN_ROOTFS } from '../../images/busybox-rootfs.ts';
import { SANDBOX_ID_ENV } from '../agent-sandbox.ts';
import { ChildSandbox, type ChildLaunch } from '../child-sandbox.ts';
import type { SandboxSpec, SandboxStats } from '../types.ts';
import { firstLine, removeContainerSync, runEngine, runEngineOrThrow, type Engine } from './engine.ts';
import { engineRunArgs } from './run-args.ts';
import { parseStatsLine } from './stats.ts';
import { DEFAULT_PATH } from '../../default-path.ts';

const DEFAULT_WORKSPACE = '/workspace';
/** How docker and podman say that `rm --force` found nothing to remove. */
const NOT_FOUND = /no such container|no container with name or id/i;

export interface EngineSandboxOptions {
  /** The image tag to run, imported on first use. */
  image: () => Promise<string>;
  pidsLimit: number;
}

/** The container's name is the sandbox id. */
export class EngineSandbox extends ChildSandbox {
  #enginePaused = false;
  #removal: Promise<void> | undefined;

  private constructor(
    private readonly engine: Engine,
    spec: SandboxSpec,
    private readonly options: EngineSandboxOptions,
  ) {
    super(engine.cli, spec);
    // the last resort runs after the CLI was SIGKILLed: the container itself is the engine's to kill
    this.resources.lastResort.push(() => removeContainerSync(engine.cli, this.id));
  }

  static create(engine: Engine, spec: SandboxSpec, options: EngineSandboxOptions, signal?: AbortSignal): Promise<EngineSandbox> {
    return new EngineSandbox(engine, spec, options).start(signal);
  }

  protected async plan(): Promise<ChildLaunch> {
    const image = await this.options.image();
    const workspace = makeSandboxTempDir(this.resources, this.engine.cli);
    const args = engineRunArgs({
      name: this.id,
      image,
      workspaceHostDir: workspace,
      workspacePath: this.spec.workspacePath ?? DEFAULT_WORKSPACE,
      capabilities: this.spec.capabilities ?? [],
      memoryMiB: this.spec.memoryMiB,
      pidsLimit: this.options.pidsLimit,
      env: { PATH: DEFAULT_PATH, HOME: '/root' },
      command: [AGENT_IN_ROOTFS, '--init'],
    });
    // the CLI needs the caller's engine settings (DOCKER_HOST, XDG_RUNTIME_DIR, HOME for its config)
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return { command: 'setpriv', args: ['--pdeathsig', 'KILL', '--', this.engine.cli, ...args], env: { ...env, [SANDBOX_ID_ENV]: this.id } };
  }

  protected terminate(): void {
    // the CLI exits once the container is gone; a failure is thrown by destroy(), which awaits this later
    this.#removal ??= this.#removeContainer();
    this.#removal.catch(() => undefined);
  }

  /** Freeze the container with the engine's freezer; the agent answers nothing until resume(). */
  protected override async pauseProcesses(): Promise<void> {
    if (this.#enginePaused) return;
    await runEngineOrThrow(this.engine.cli, ['pause', this.id]);
    this.#enginePaused = true;
  }

  protected override async resumeProcesses(): Promise<void> {
    if (!this.#enginePaused) return;
    await runEngineOrThrow(this.engine.cli, ['unpause', this.id]);
    this.#enginePaused = false;
  }

  /** The engine's own memory figure for the container (its cgroup), not a PSS sum: the processes are the engine's. */
  override async stats(): Promise<SandboxStats> {
    const output = await runEngineOrThrow(this.engine.cli, ['stats', '--no-stream', '--format', this.engine.statsFormat, this.id]);
    const { bytes, processes } = parseStatsLine(firstLine(output));
    return { memory: { bytes, kind: 'rss', method: this.engine.statsMemory }, processes };
  }

  /** ChildSandbox's reap (channel, CLI), then the container, whether or not the CLI still ran; the temp dirs go after. */
  protected override async reap(): Promise<void> {
    try {
      await super.reap();
    } finally {
      // no CLI started, no container: asking an engine that may be down would only hide why create() failed
      if (this.child?.pid !== undefined) await (this.#removal ??= this.#removeContainer());
    }
  }

  async #removeContainer(): Promise<void> {
    // older engines refuse to kill a frozen container
    if (this.#enginePaused) await runEngine(this.engine.cli, ['unpause', this.id]);
    this.#enginePaused = false;
    const outcome = await runEngine(this.engine.cli, ['rm', '--force', this.id]);
    if (!outcome.ok && !NOT_FOUND.test(outcome.stderr)) throw new Error(`${this.id}: ${this.engine.cli} rm --force: ${firstLine(outcome.stderr)}`);
  }
}
