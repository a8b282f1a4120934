/**
 * A container engine driven through its command line. docker and podman take
 * the same verbs and flags for everything this backend does; what differs
 * (how to tell that an engine answers, how `stats` prints memory) is data in
 * an `Engine`, so one module serves both.
 */
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';

export interface Engine {
  /** The command on PATH; also the backend's name. */
  cli: string;
  /** Where to get the CLI when it is missing. */
  install: string;
  /** A verb that succeeds only when the engine itself answers, not just its CLI. */
  probe: string[];
  /** What a failed probe means, put before the engine's first line of stderr. */
  probeFailure: string;
  /** `stats --format` template printing "<memory>\t<pids>" for one container. */
  statsFormat: string;
  /** What that memory figure is, for SandboxStats.memory.method. */
  statsMemory: string;
}

export interface EngineOutcome {
  ok: boolean;
  stdout: string;
  /** The engine's stderr, or why the CLI could not run at all. */
  stderr: string;
  timedOut: boolean;
}

/** One engine verb; failure is an outcome, never a throw. */
export async function runEngine(cli: string, args: string[], timeoutMs?: number): Promise<EngineOutcome> {
  const result = await execa(cli, args, { reject: false, stdin: 'ignore', timeout: timeoutMs });
  const stderr = String(result.stderr ?? '').trim();
  return {
    ok: result.exitCode === 0,
    stdout: String(result.stdout ?? '').trim(),
    stderr: stderr || (result.exitCode === 0 ? '' : (result.shortMessage ?? 'failed')),
    timedOut: result.timedOut === true,
  };
}

/** Like runEngine() but throws "docker pause x: <first line of stderr>"; resolves with stdout. */
export async function runEngineOrThrow(cli: string, args: string[]): Promise<string> {
  const outcome = await runEngine(cli, args);
  if (!outcome.ok) throw new Error(`${cli} ${args.join(' ')}: ${firstLine(outcome.stderr) || 'failed'}`);
  return outcome.stdout;
}

/** `<cli> rm -f <name>`, synchronously, for the process-exit last resort; a container already gone is fine. */
export function removeContainerSync(cli: string, name: string): void {
  execFileSync(cli, ['rm', '-f', name], { stdio: 'ignore', timeout: 10_000 });
}

export function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
