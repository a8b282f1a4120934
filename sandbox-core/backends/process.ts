/**
 * The `process` backend: no isolation, the floor every other backend is
 * measured against. The agent is a plain child of rigor in its own process
 * group, with a fresh host temp dir as its cwd (the workspace: use relative
 * paths; spec.workspacePath, capabilities and memoryMiB cannot be enforced
 * here and are ignored). Channel: the agent's stdin/stdout.
 *
 * If rigor dies, even by SIGKILL, the agent sees end of stream and kills
 * its commands (each in its own session) before it exits. `setpriv
 * --pdeathsig CONT` makes that hold for a paused agent too; pdeathsig KILL
 * would kill the agent alone and orphan its commands.
 */
import { cachedAgentCommand } from './agent-command.ts';
import { which } from '../../base/which.ts';
import { makeSandboxTempDir } from '../cleanup.ts';
import { SANDBOX_ID_ENV } from './agent-sandbox.ts';
import { ChildSandbox, type ChildLaunch } from './child-sandbox.ts';
import type { Backend, Sandbox, SandboxSpec } from './types.ts';
import { DEFAULT_PATH } from '../default-path.ts';


class ProcessSandbox extends ChildSandbox {
  constructor(spec: SandboxSpec) {
    super('process', spec);
  }

  protected async plan(): Promise<ChildLaunch> {
    const agent = await cachedAgentCommand(this.spec.agent ?? 'native');
    const workspace = makeSandboxTempDir(this.resources, 'process');
    return {
      command: 'setpriv',
      args: ['--pdeathsig', 'CONT', '--', ...agent],
      cwd: workspace,
      env: { PATH: process.env.PATH ?? DEFAULT_PATH, HOME: workspace, [SANDBOX_ID_ENV]: this.id },
    };
  }

  protected terminate(): void {
    // A running agent kills its commands and exits at end of stream; a stopped one cannot read it.
    if (this.paused) this.forceKill();
  }
}

export const processBackend: Backend = {
  name: 'process',
  async available() {
    return which('setpriv') ? { ok: true } : { ok: false, reason: 'setpriv (util-linux) not on PATH' };
  },
  create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    return new ProcessSandbox(spec).start(options.signal);
  },
};
