/**
 * The untimed commands around a measurement (setup, prepare, conclude,
 * cleanup, sync): run through execa in their own process group, the group
 * killed on abort or timeout, a failure reported with its stderr tail.
 */
import { execa } from 'execa';
import { WorkloadError } from '../contract/workload.ts';
import { killGroup } from './process-group.ts';
import { lastLines, TailBuffer } from '../../base/tail.ts';

export interface UntimedOptions {
  /** Added to the runner's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Aborting kills the command's group; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  timeoutMs: number;
}

/** Run `argv` to completion; a non-zero exit, a signal or a timeout throws a WorkloadError naming `what`. */
export async function runUntimed(what: string, argv: string[], opts: UntimedOptions): Promise<void> {
  opts.signal?.throwIfAborted();
  const [file = '', ...args] = argv;
  const subprocess = execa(file, args, {
    env: opts.env,
    cwd: opts.cwd,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: false,
    detached: true,
    reject: false,
  });
  const stderr = new TailBuffer();
  subprocess.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  const end = () => {
    if (subprocess.pid !== undefined) void killGroup(subprocess.pid, subprocess);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    end();
  }, opts.timeoutMs);
  opts.signal?.addEventListener('abort', end, { once: true });
  let result: Awaited<typeof subprocess>;
  try {
    result = await subprocess;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', end);
  }
  opts.signal?.throwIfAborted();
  const shown = argv.join(' ');
  if (timedOut) throw new WorkloadError(`${what} (${shown}) took longer than ${opts.timeoutMs / 1000} s and was killed`);
  if (result.exitCode === undefined && result.signal === undefined) {
    throw new WorkloadError(`${what} (${shown}) could not start: ${result.shortMessage ?? 'unknown error'}`);
  }
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const tail = lastLines(stderr.text(), 20);
    throw new WorkloadError(`${what} (${shown}) ${how}; ${tail ? `last 20 lines of stderr:\n${tail}` : 'stderr was empty'}`);
  }
}
