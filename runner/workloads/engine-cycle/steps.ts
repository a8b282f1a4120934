/**
 * The engine command lines `engine.cycle` times, as pure functions of the
 * engine's connection: `run --rm` (agentkernel's ephemeral path) and the five
 * steps of a container's life (agentkernel's create → start → exec → stop →
 * remove). Every container is named `rigor-cycle-<pid>-<n>`, so one that a
 * SIGKILLed rigor left behind is found and removed by the next (sweep.ts).
 */

/** How every CLI call of one engine is made (the engines connection: its env and global flags). */
export interface EngineCli {
  /** Absolute path of the CLI, found once before anything is timed. */
  cli: string;
  /** Added to the CLI's environment (DOCKER_HOST of a private dockerd). */
  env: Record<string, string>;
  /** Flags before every verb (podman's --cgroup-manager cgroupfs --events-backend file). */
  globalArgs: string[];
  /** Flags every container gets from its connection (podman's --ulimit). */
  runArgs: string[];
  /** Flags choosing the OCI runtime (none for the engine's default runc; --runtime runsc for gVisor). */
  runtimeArgs: string[];
  /** The image every container runs. */
  image: string;
}

/** A command line ready to exec: argv[0] is what `ps` shows, `file` what is executed. */
export interface StepCommand {
  file: string;
  argv: string[];
}

export const CONTAINER_PREFIX = 'rigor-cycle-';

/** `rigor-cycle-<pid>-<n>`: the pid lets the next rigor tell a leftover of a dead run from a live one's. */
export function containerName(pid: number, n: number): string {
  return `${CONTAINER_PREFIX}${pid}-${n}`;
}

/** The pid in a container name of ours, or null for any other name. */
export function ownerPid(name: string): number | null {
  const match = new RegExp(`^${CONTAINER_PREFIX}(\\d+)-\\d+$`).exec(name);
  return match ? Number(match[1]) : null;
}

function command(engine: EngineCli, args: string[]): StepCommand {
  const name = engine.cli.split('/').pop() ?? engine.cli;
  return { file: engine.cli, argv: [name, ...engine.globalArgs, ...args] };
}

/** What every container gets: its name, no network, the connection's and the runtime's flags. */
function containerArgs(engine: EngineCli, name: string): string[] {
  return ['--name', name, '--network', 'none', ...engine.runArgs, ...engine.runtimeArgs];
}

/** `<cli> run --rm --network none <image> <command>`: one container made, run to its exit and removed. */
export function runRmStep(engine: EngineCli, name: string, argv: string[]): StepCommand {
  return command(engine, ['run', '--rm', ...containerArgs(engine, name), engine.image, ...argv]);
}

/**
 * What the container of a breakdown runs until it is stopped: a shell that
 * exits at once on SIGTERM (as pid 1 it would otherwise ignore it, and `stop`
 * would wait out its grace period before killing it).
 */
export const IDLE_COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

export type BreakdownStep = 'create' | 'start' | 'exec' | 'stop' | 'rm';
export const BREAKDOWN_STEPS: readonly BreakdownStep[] = ['create', 'start', 'exec', 'stop', 'rm'];

/** The five command lines of one container's life, in order; `exec` runs `argv` in it. */
export function breakdownSteps(engine: EngineCli, name: string, argv: string[]): Record<BreakdownStep, StepCommand> {
  return {
    create: command(engine, ['create', ...containerArgs(engine, name), engine.image, ...IDLE_COMMAND]),
    start: command(engine, ['start', name]),
    exec: command(engine, ['exec', name, ...argv]),
    stop: command(engine, ['stop', name]),
    rm: command(engine, ['rm', name]),
  };
}

/** Untimed: remove a container whatever its state (after a failed step, or a leftover). */
export function forceRemoveStep(engine: EngineCli, names: string[]): StepCommand {
  return command(engine, ['rm', '--force', ...names]);
}

/** Untimed: the names of every container of ours the engine has, running or not. */
export function listOursStep(engine: EngineCli): StepCommand {
  return command(engine, ['ps', '--all', '--filter', `name=${CONTAINER_PREFIX}`, '--format', '{{.Names}}']);
}
