/**
 * The runc verbs the backend uses, each against a private state root
 * (`runc --root`), so `runc list` there shows only our containers and a
 * leftover can be found by listing it. The same verbs drive any OCI runtime
 * with runc's command line (gVisor's `runsc`): an `OciRuntime` names its
 * binary and the global flags every call carries.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { whichOnce } from '../../../base/which.ts';

export const RUNC = 'runc';

/** runc's absolute path, looked up once per process (the bare name when it is not on the PATH: spawning it then says so). */
export function runcPath(): string {
  return whichOnce(RUNC) ?? RUNC;
}

/** An OCI runtime driven like runc: its binary and the global flags that go before `--root` on every call. */
export interface OciRuntime {
  /** The backend that runs it; its sandboxes, temp dirs and cgroups are named rigor-<backend>-<owner pid>-XXXXXX. */
  backend: string;
  command: string;
  flags: readonly string[];
}

/** runc itself, spawned by its absolute path (looked up on first use). */
export const RUNC_RUNTIME: OciRuntime = {
  backend: 'runc',
  get command() {
    return runcPath();
  },
  flags: [],
};

export interface RuncOutcome {
  ok: boolean;
  stderr: string;
}

/** The runtime's argv for `args` against `stateRoot`. */
export function runtimeArgs(runtime: OciRuntime, stateRoot: string, args: string[]): string[] {
  return [...runtime.flags, '--root', stateRoot, ...args];
}

export async function runc(stateRoot: string, args: string[], runtime: OciRuntime = RUNC_RUNTIME): Promise<RuncOutcome> {
  const result = await execa(runtime.command, runtimeArgs(runtime, stateRoot, args), { reject: false, stdin: 'ignore' });
  return { ok: result.exitCode === 0, stderr: String(result.stderr).trim() };
}

/** Like runc() but throws "<runtime> <verb> <id>: <stderr>" on failure. */
export async function runcOrThrow(stateRoot: string, args: string[], runtime: OciRuntime = RUNC_RUNTIME): Promise<void> {
  const outcome = await runc(stateRoot, args, runtime);
  if (!outcome.ok) throw new Error(`${runtime.command} ${args.join(' ')}: ${outcome.stderr || 'failed'}`);
}

/** Ids in the state root; [] when the root does not exist (yet or any more), which `runc list` would create. */
export async function runcList(stateRoot: string, runtime: OciRuntime = RUNC_RUNTIME): Promise<string[]> {
  if (!existsSync(stateRoot)) return [];
  const result = await execa(runtime.command, runtimeArgs(runtime, stateRoot, ['list', '--quiet']), { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) return [];
  return String(result.stdout).split('\n').filter(Boolean);
}

/** `runc delete --force`, synchronously, for the process-exit last resort; ignores a container that is gone. */
export function runcDeleteSync(stateRoot: string, id: string, runtime: OciRuntime = RUNC_RUNTIME): void {
  execFileSync(runtime.command, runtimeArgs(runtime, stateRoot, ['delete', '--force', id]), { stdio: 'ignore', timeout: 5000 });
}
