/**
 * One command of the kernel build, its output read line by line (for
 * progress) with the last lines kept, so a failure says what the tool said
 * rather than "exit 2".
 */
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { signalQuietly } from '../base/signal.ts';

/** SIGTERM to the process group `pgid`; nothing when it is gone. */
export function signalGroup(pgid: number): void {
  signalQuietly(-pgid, 'SIGTERM');
}

const TAIL_LINES = 30;

export interface StepOptions {
  cwd: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  /** Called with the running process, so an exit hook can stop it. */
  onSpawn?: (pid: number | undefined) => void;
}

/**
 * Runs `command args` to completion; throws with the command and its last lines of output on failure.
 * The command gets a process group of its own (its pid), so stopping it reaches make's -j compilers too.
 */
export async function runStep(command: string, args: readonly string[], options: StepOptions): Promise<void> {
  const child = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdin: 'ignore',
    all: true,
    buffer: false,
    reject: false,
    detached: true,
    cancelSignal: options.signal,
  });
  const stopGroup = (): void => {
    if (child.pid !== undefined) signalGroup(child.pid);
  };
  options.signal?.addEventListener('abort', stopGroup, { once: true });
  options.onSpawn?.(child.pid);
  const tail: string[] = [];
  const lines = createInterface({ input: child.all! });
  lines.on('line', (line) => {
    options.onLine?.(line);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  });
  const result = await child;
  options.signal?.removeEventListener('abort', stopGroup);
  options.onSpawn?.(undefined);
  const shown = `${command} ${args.join(' ')}`;
  if (result.isCanceled) throw options.signal?.reason instanceof Error ? options.signal.reason : new Error(`${shown}: cancelled`);
  if ((result as { code?: string }).code === 'ENOENT') throw new Error(`${command} not found on PATH`);
  if (result.exitCode !== 0) {
    const how = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
    throw new Error(`kernel build: \`${shown}\` in ${options.cwd} failed (${how}); its last lines:\n${tail.join('\n')}`);
  }
}
