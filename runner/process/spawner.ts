/**
 * Timing one run of an external command. Two spawners share one interface:
 * `native` (a small C helper, native/spawner.c, timing spawn -> wait4 with no
 * Node work inside the window, as `hyperfine -N` does) and `node`
 * (child_process.spawn, the fallback when the helper cannot be built).
 * Both exec the absolute path they are given (program.ts resolveCommand,
 * untimed): no PATH search happens inside the timed window.
 * This file is their contract; open-spawner.ts picks one.
 */
import { isAbsolute } from 'node:path';
import type { ResolvedCommand } from './program.ts';

export type { ResolvedCommand };
/**
 * Where a run's stdout goes: /dev/null, a pipe read and discarded (hyperfine
 * --output=pipe), or kept in memory, its tail and size returned ('keep') or
 * all of it ('all', for metrics read from it). Kept output is written to
 * memory inside the timed window, as the command writes it; it is read after.
 */
export type OutputMode = 'discard' | 'pipe' | 'keep' | 'all';

export interface TimedRun {
  exitCode: number | null;
  /** Name of the signal that ended the command, e.g. "SIGKILL". */
  signal: string | null;
  /** Clock "spawn requested -> child exited (waitpid)". */
  wallMs: number;
  /** CPU time of the child (and the children it waited for) from its rusage; null from the node spawner. */
  userMs: number | null;
  sysMs: number | null;
  /** Last 4 KiB of stdout, only with output 'keep' or 'all'. */
  stdoutTail?: string;
  /** Bytes the run wrote to stdout, only with output 'keep' or 'all'. */
  stdoutBytes?: number;
  /** All of stdout, only with output 'all'. */
  stdout?: Buffer;
  /** Last 4 KiB of stderr; in a batch, only on the run that ended it (empty on the others). */
  stderrTail: string;
}

export interface RunOptions {
  /** Added to the runner's environment. */
  env?: Record<string, string>;
  cwd?: string;
  output: OutputMode;
  /** The run is aborted and the promise rejects after this long. */
  timeoutMs: number;
  /** Aborting kills the command's process group; the promise rejects with the signal's reason once it is reaped. */
  signal: AbortSignal;
}

export interface BatchOptions extends RunOptions {
  /** Runs in the batch, back to back. */
  count: number;
  /** A run ending otherwise (another exit code, a signal) ends the batch; with 'any' every run counts. */
  expectExit: number | 'any';
  /** The runs that ended as expected, in order, a chunk at a time as they are measured (about every 50 ms). */
  onRuns(runs: TimedRun[]): void;
}

/** Why a batch ended before its count, at run number `done` (from 0). */
export type BatchStop =
  | { reason: 'exit'; run: TimedRun }
  | { reason: 'timeout' }
  | { reason: 'cannot-start'; message: string };

export interface BatchEnd {
  /** Runs that ended as expected (all passed to onRuns). */
  done: number;
  stop?: BatchStop;
}

export interface Spawner {
  kind: 'native' | 'node';
  /** Execs command.file with command.argv in its own process group, stdin from /dev/null. */
  run(command: ResolvedCommand, opts: RunOptions): Promise<TimedRun>;
  /**
   * Runs argv `count` times with no Node work between the runs, each timed as
   * `run` times one (`timeoutMs` per run). Aborting kills the running command's
   * group and rejects with the signal's reason once it is reaped, after
   * onRuns got every run that finished before. Only spawners that time outside Node have it.
   */
  runBatch?(command: ResolvedCommand, opts: BatchOptions): Promise<BatchEnd>;
  /** Pids of the spawner's own long-lived processes (the native helpers), which map files too. */
  helperPids?(): number[];
  close(): Promise<void>;
}

/** A spawner refuses a path it would have to search for: the search would fall inside the timed window. */
export function assertExecPath(command: ResolvedCommand): void {
  if (!isAbsolute(command.file)) {
    throw new Error(`spawner: expected an absolute path to exec (resolveCommand finds it before timing), found ${JSON.stringify(command.file)}`);
  }
}
