/**
 * The fallback spawner: Node's child_process.spawn, timed from the spawn()
 * call to the 'exit' event (libuv's waitpid). It forks through libuv and the
 * event loop sits inside the window, so it costs more per run than the
 * native helper; it exists for hosts without a C compiler. It execs the
 * resolved path (argv[0] passed as given), so libuv searches no PATH either.
 */
import { spawn } from 'node:child_process';
import { assertExecPath, type ResolvedCommand, type RunOptions, type Spawner, type TimedRun } from './spawner.ts';
import { killGroup } from './process-group.ts';
import { TailBuffer } from '../../base/tail.ts';

export class NodeSpawner implements Spawner {
  readonly kind = 'node' as const;
  #envs = new WeakMap<object, NodeJS.ProcessEnv>();

  async run(command: ResolvedCommand, opts: RunOptions): Promise<TimedRun> {
    const { signal } = opts;
    signal.throwIfAborted();
    assertExecPath(command);
    const [name = '', ...args] = command.argv;
    const stdout = opts.output === 'discard' ? 'ignore' : 'pipe';
    const env = this.#env(opts.env);
    return new Promise<TimedRun>((resolve, reject) => {
      const start = performance.now();
      const child = spawn(command.file, args, { argv0: name, stdio: ['ignore', stdout, 'pipe'], env, cwd: opts.cwd, detached: true });
      let wallMs = 0;
      let timedOut = false;
      const kept = opts.output === 'keep' || opts.output === 'all';
      const stdoutTail = kept ? new TailBuffer() : null;
      const stdoutAll: Buffer[] | null = opts.output === 'all' ? [] : null;
      let stdoutBytes = 0;
      const stderrTail = new TailBuffer();
      child.stdout?.on('data', (chunk: Buffer) => {
        stdoutTail?.push(chunk);
        stdoutAll?.push(chunk);
        stdoutBytes += chunk.length;
      });
      child.stderr!.on('data', (chunk: Buffer) => stderrTail.push(chunk));
      const exited = new Promise((done) => child.once('exit', done));
      child.once('exit', () => {
        wallMs = performance.now() - start;
      });
      const end = () => {
        if (child.pid !== undefined) void killGroup(child.pid, exited);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        end();
      }, opts.timeoutMs);
      signal.addEventListener('abort', end, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', end);
      };
      child.once('error', (error) => {
        settle();
        reject(new Error(`cannot start ${name}: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
      });
      child.once('close', (exitCode, signalName) => {
        settle();
        if (signal.aborted) return reject(signal.reason);
        if (timedOut) return reject(new Error(`${name} took longer than ${opts.timeoutMs} ms and was killed`));
        resolve({
          exitCode,
          signal: signalName,
          wallMs,
          userMs: null,
          sysMs: null,
          ...(stdoutTail ? { stdoutTail: stdoutTail.text(), stdoutBytes } : {}),
          ...(stdoutAll ? { stdout: Buffer.concat(stdoutAll) } : {}),
          stderrTail: stderrTail.text(),
        });
      });
    });
  }

  async close(): Promise<void> {}

  /** The child's environment (runner's env + extra), built once per env object. */
  #env(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
    if (!extra) return process.env;
    let env = this.#envs.get(extra);
    if (!env) this.#envs.set(extra, (env = { ...process.env, ...extra }));
    return env;
  }
}
