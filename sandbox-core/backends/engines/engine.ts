/**
 * A container engine driven through its command line. docker and podman take
 * the same verbs and flags for everything this backend does; what differs
 * (how to tell that an engine answers, how `stats` prints memory, which
 * engine to reach and with which global flags) is data in an `Engine` and the
 * `EngineConnection` it resolves to, so one module serves both.
 */
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import type { EngineInfo, EngineRuntime } from './facts.ts';

export interface Engine {
  /** The command on PATH; also the backend's name. */
  cli: string;
  /** Where to get the CLI when it is missing. */
  install: string;
  /** A verb that succeeds only when the engine itself answers, not just its CLI. */
  probe: string[];
  /** What a failed probe means, put before the engine's first line of stderr. */
  probeFailure: string;
  /** Which engine to talk to and how: the user's, or one rigor starts (docker); resolved once per backend. */
  connect(): Promise<EngineConnection>;
  /** Whether `--tmpfs` takes uid= and gid= (docker does; podman 4.3 refuses them). */
  tmpfsUid: boolean;
  /** The verb printing the engine's `info` as JSON. */
  info: string[];
  /** What facts.engine keeps of that JSON (facts.ts). */
  parseInfo(json: Record<string, unknown>): EngineInfo;
  /** The run flags of `runtime` on this engine; throws naming why the engine cannot run it. */
  runtimeArgs(runtime: EngineRuntime, info: EngineInfo): RuntimeChoice;
}

/** How an engine runs one OCI runtime: its run flags, and gVisor's platform where it is gVisor. */
export interface RuntimeChoice {
  args: string[];
  platform?: string;
}

/** How every CLI call of one engine is made: never by changing process.env. */
export interface EngineConnection {
  cli: string;
  /** Added to the CLI's environment (DOCKER_HOST of a private dockerd). */
  env: Record<string, string>;
  /** Flags before every verb (podman's --cgroup-manager cgroupfs). */
  globalArgs: string[];
  /** Flags every `run` gets beyond the sandbox's own (podman's --ulimit and --uidmap). */
  runArgs: string[];
  /** 'private': a daemon rigor started and stops; 'user': the engine that was already there. */
  managed: 'private' | 'user';
  /** Flags rigor started the engine's daemon with (a private dockerd's), for facts.engine.flags. */
  daemonFlags: string[];
  /** How container ids map to host ids when rigor chose it (podman's --uidmap); otherwise read from `info`. */
  userns?: string;
  /** The verb and flags that kill and remove containers at once (podman's rm waits 10 s on SIGTERM unless told --time 0). */
  removeArgs: string[];
  /**
   * Where the engine's runc keeps container state and the host uid root maps to in rigor's containers (podman:
   * /run/runc and its fixed range): a container killed between runc's create and start is forgotten by podman's
   * `rm --force` but left in runc's state with its `runc init` waiting, which stale.ts finds by that uid.
   */
  runcState?: { root: string; rootHostId: number };
  /** Pids of the engine's daemons shared by every sandbox (a private dockerd and its containerd), for stats().shared. */
  daemonPids?: () => number[];
  /** Why no engine can be reached, when rigor knows before asking the CLI (a private dockerd that did not start). */
  unavailable?: string;
}

/** The CLI talking to whatever engine its own configuration names: nothing added. */
export function plainConnection(cli: string): EngineConnection {
  return { cli, env: {}, globalArgs: [], runArgs: [], managed: 'user', daemonFlags: [], removeArgs: ['rm', '--force'] };
}

/** The CLI's environment: rigor's own plus the connection's (the CLI needs HOME, XDG_RUNTIME_DIR and the like). */
export function connectionEnv(connection: EngineConnection): Record<string, string> {
  const own = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return { ...own, ...connection.env };
}

/** The argv after the CLI for `args`: the global flags first. */
export function cliArgs(connection: EngineConnection, args: string[]): string[] {
  return [...connection.globalArgs, ...args];
}

export interface EngineOutcome {
  ok: boolean;
  stdout: string;
  /** The engine's stderr, or why the CLI could not run at all. */
  stderr: string;
  timedOut: boolean;
}

/** One engine verb; failure is an outcome, never a throw. */
export async function runEngine(connection: EngineConnection, args: string[], timeoutMs?: number): Promise<EngineOutcome> {
  const result = await execa(connection.cli, cliArgs(connection, args), { reject: false, stdin: 'ignore', timeout: timeoutMs, env: connectionEnv(connection), extendEnv: false });
  const stderr = String(result.stderr ?? '').trim();
  return {
    ok: result.exitCode === 0,
    stdout: String(result.stdout ?? '').trim(),
    stderr: stderr || (result.exitCode === 0 ? '' : (result.shortMessage ?? 'failed')),
    timedOut: result.timedOut === true,
  };
}

/** Like runEngine() but throws "docker pause x: <first line of stderr>"; resolves with stdout. */
export async function runEngineOrThrow(connection: EngineConnection, args: string[]): Promise<string> {
  const outcome = await runEngine(connection, args);
  if (!outcome.ok) throw new Error(`${connection.cli} ${args.join(' ')}: ${firstLine(outcome.stderr) || 'failed'}`);
  return outcome.stdout;
}

/** `<cli> rm -f <name>`, synchronously, for the process-exit last resort; a container already gone is fine. */
export function removeContainerSync(connection: EngineConnection, name: string): void {
  execFileSync(connection.cli, cliArgs(connection, [...connection.removeArgs, name]), { stdio: 'ignore', timeout: 10_000, env: connectionEnv(connection) });
}

export function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
