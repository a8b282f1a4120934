/**
 * One run of a program under valgrind's callgrind: its own process group
 * (killed on abort), a fixed environment, the output file in a directory the
 * caller owns. The program may be driven over its stdin and stdout while it
 * runs (the agent answering requests), or left to run to its exit.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { TailBuffer } from '../../../base/tail.ts';
import { killGroup } from '../../process/process-group.ts';

/** The program's stdin and stdout, for a driver that talks to it. */
export type DrivenChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** Talks to the program while it runs; resolves when it is done with it (after closing its stdin, if the program waits for that). */
export type Driver = (child: DrivenChild, signal: AbortSignal) => Promise<void>;

export interface CallgrindRunOptions {
  /** valgrind's path. */
  valgrind: string;
  /** Directory the output file goes to: callgrind.out.<pid>, one per process that exits under valgrind. */
  dir: string;
  toggleCollect: readonly string[];
  /** The program's whole environment. */
  env: Record<string, string>;
  /** Without one, stdin is /dev/null and stdout is discarded. */
  drive?: Driver;
  /** Aborting kills valgrind's process group; the run then rejects with the signal's reason. */
  signal: AbortSignal;
}

export interface CallgrindRun {
  /** valgrind's pid, which is the program's: its output file is callgrind.out.<pid>. */
  pid: number;
  outFile: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The end of valgrind's and the program's stderr. */
  stderrTail: string;
}

/** The driver failed (the program died, or answered wrong); the program was killed. */
export class DriveError extends Error {
  override name = 'DriveError';
  constructor(
    message: string,
    /** The end of valgrind's and the program's stderr. */
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/**
 * valgrind's arguments before the program's argv. With function names, only
 * instructions executed inside them (and what they call) are counted.
 */
export function callgrindArgs(outFile: string, toggleCollect: readonly string[]): string[] {
  return [
    '--tool=callgrind',
    '--quiet',
    `--callgrind-out-file=${outFile}`,
    ...(toggleCollect.length > 0 ? ['--collect-atstart=no', ...toggleCollect.map((name) => `--toggle-collect=${name}`)] : []),
  ];
}

/** Run `argv` (argv[0] a path) under callgrind until it exits, driven by `options.drive` if given. */
export async function runUnderCallgrind(argv: readonly string[], options: CallgrindRunOptions): Promise<CallgrindRun> {
  options.signal.throwIfAborted();
  // %p: a forked child that exits under valgrind (an exec that failed) writes its own file, not over the program's.
  const args = [...callgrindArgs(join(options.dir, 'callgrind.out.%p'), options.toggleCollect), '--', ...argv];
  const child = spawn(options.valgrind, args, {
    env: options.env,
    stdio: [options.drive ? 'pipe' : 'ignore', options.drive ? 'pipe' : 'ignore', 'pipe'],
    detached: true,
  }) as unknown as DrivenChild;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const stderr = new TailBuffer();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const kill = () => {
    if (child.pid !== undefined) void killGroup(child.pid, exited.catch(() => {}));
  };
  options.signal.addEventListener('abort', kill, { once: true });
  try {
    if (options.drive) {
      try {
        await options.drive(child, options.signal);
      } catch (error) {
        kill();
        await exited.catch(() => {});
        options.signal.throwIfAborted();
        throw new DriveError(error instanceof Error ? error.message : String(error), stderr.text());
      }
    }
    const { code, signal } = await exited;
    options.signal.throwIfAborted();
    const pid = child.pid as number;
    return { pid, outFile: join(options.dir, `callgrind.out.${pid}`), exitCode: code, signal, stderrTail: stderr.text() };
  } finally {
    options.signal.removeEventListener('abort', kill);
  }
}

/** valgrind's version ("valgrind-3.19.0" → "3.19.0"); null when it cannot say. */
export function valgrindVersion(valgrind: string): string | null {
  const result = spawnSync(valgrind, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  return /(\d+(?:\.\d+)+)/.exec(result.stdout ?? '')?.[1] ?? null;
}
