/**
 * The runc verbs the backend uses, each against a private state root
 * (`runc --root`), so `runc list` there shows only our containers and a
 * leftover can be found by listing it.
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

export interface RuncOutcome {
  ok: boolean;
  stderr: string;
}

export async function runc(stateRoot: string, args: string[]): Promise<RuncOutcome> {
  const result = await execa(runcPath(), ['--root', stateRoot, ...args], { reject: false, stdin: 'ignore' });
  return { ok: result.exitCode === 0, stderr: String(result.stderr).trim() };
}

/** Ids in the state root; [] when the root does not exist (yet or any more), which `runc list` would create. */
export async function runcList(stateRoot: string): Promise<string[]> {
  if (!existsSync(stateRoot)) return [];
  const result = await execa(runcPath(), ['--root', stateRoot, 'list', '--quiet'], { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) return [];
  return String(result.stdout).split('\n').filter(Boolean);
}

/** `runc delete --force`, synchronously, for the process-exit last resort; ignores a container that is gone. */
export function runcDeleteSync(stateRoot: string, id: string): void {
  execFileSync(runcPath(), ['--root', stateRoot, 'delete', '--force', id], { stdio: 'ignore', timeout: 5000 });
}
