/**
 * envd's process service on the sandbox core's exec. Each E2B process is one
 * agent EXEC that runs until the command ends; its pid is this table's handle,
 * not a pid inside the sandbox. Its output is streamed (the agent's OUTPUT
 * frames) to whoever listens; the result has what was not streamed.
 * Signals reach the command through an environment marker: a small shell
 * script in the sandbox finds the processes whose environ carries it. Stdin,
 * when asked for, is a FIFO in the sandbox held open by a `sleep` whose
 * death (closeStdin) gives the command end of file.
 */
import { DEFAULT_PATH } from '../default-path.ts';
import type { ExecRequest, ExecResult, Sandbox } from '../backends/types.ts';

export const MARKER_ENV = 'RIGOR_E2B_PROCESS';

export interface ProcessConfig {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

/** What the command came to: the exec's result, or why it could not run (the agent's ERROR). */
export type ProcessOutcome = { result: ExecResult } | { error: string };

export type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

export interface ProcessRecord {
  readonly pid: number;
  readonly tag?: string;
  readonly config: ProcessConfig;
  readonly stdin: boolean;
  readonly outcome: Promise<ProcessOutcome>;
  finished: boolean;
  /** Hears output from now on as the agent streams it; returns the call that stops listening. */
  listen(listener: OutputListener): () => void;
  /** Bytes of each stream passed to listeners so far: the outcome's output beyond them was never streamed. */
  readonly streamed: { stdout: number; stderr: number };
}

/** Kills every process whose environment holds exactly `RIGOR_E2B_PROCESS=$2` with signal $1; exit 1 when none was found. */
const SIGNAL_SCRIPT = `found=1
for f in $(grep -lzxF "${MARKER_ENV}=$1" /proc/[0-9]*/environ 2>/dev/null); do
  p=\${f#/proc/}; p=\${p%/environ}
  kill -s "$0" "$p" 2>/dev/null && found=0
done
exit $found`;

export class ProcessNotFoundError extends Error {}

export class ProcessTable {
  private readonly records = new Map<number, ProcessRecord>();
  private nextPid = 1000;
  private facts: Promise<{ home: string; bash: boolean }> | undefined;

  /** `scope` makes markers and FIFO names unique to this sandbox (the process backend shares the host's /proc and /tmp). */
  constructor(
    private readonly sandbox: Sandbox,
    private readonly scope: string,
  ) {}

  /**
   * Asked once per sandbox, on its first command: the workspace (the agent's directory, HOME of every
   * command, as /home/user is on E2B) and whether it has bash.
   */
  private shellFacts(): Promise<{ home: string; bash: boolean }> {
    this.facts ??= this.sandbox.exec({ argv: ['/bin/sh', '-c', 'pwd; test -x /bin/bash && echo bash'], env: { PATH: DEFAULT_PATH } }).then((r) => {
      const [home = '/', bash] = r.stdout.toString().split('\n');
      return { home, bash: bash === 'bash' };
    });
    return this.facts;
  }

  /** The SDK runs every command as `/bin/bash -l -c CMD`; a sandbox without bash (a busybox guest) gets `sh -c CMD`. */
  private async argv(config: ProcessConfig): Promise<string[]> {
    if (config.cmd === '/bin/bash' && !(await this.shellFacts()).bash) return ['/bin/sh', ...config.args.filter((arg) => arg !== '-l')];
    return [config.cmd, ...config.args];
  }

  private async env(config: ProcessConfig, marker: string): Promise<Record<string, string>> {
    return { PATH: DEFAULT_PATH, HOME: (await this.shellFacts()).home, ...config.envs, [MARKER_ENV]: marker };
  }

  /**
   * The core exec request this table makes for a command started without stdin: its argv, its
   * environment (PATH, HOME, the command's envs and a marker of the same shape as a started
   * process's) and cwd. What a caller holding the core sandbox runs to time the same command
   * without the API in between (the e2b-protocol rig).
   */
  async execRequest(config: ProcessConfig): Promise<ExecRequest> {
    return { argv: await this.argv(config), env: await this.env(config, `${this.scope}.${this.nextPid}`), ...(config.cwd ? { cwd: config.cwd } : {}) };
  }

  private fifo(pid: number): string {
    return `/tmp/rigor-e2b-${this.scope}-${pid}.stdin`;
  }

  async start(config: ProcessConfig, options: { stdin?: boolean; tag?: string } = {}): Promise<ProcessRecord> {
    if (options.tag !== undefined && this.list().some((r) => r.tag === options.tag)) throw new Error(`a running process already has tag ${JSON.stringify(options.tag)}`);
    const pid = this.nextPid++;
    const marker = `${this.scope}.${pid}`;
    let argv = await this.argv(config);
    const stdin = options.stdin === true;
    let holder: Promise<unknown> | undefined;
    if (stdin) {
      const fifo = this.fifo(pid);
      const made = await this.sandbox.exec({ argv: ['/bin/sh', '-c', 'rm -f "$0" && mkfifo -m 600 "$0"', fifo], env: { PATH: DEFAULT_PATH } });
      if (made.exitCode !== 0) throw new Error(`cannot make the stdin FIFO ${fifo}: ${made.stderr.toString().trim()}`);
      holder = this.sandbox.exec({ argv: ['/bin/sh', '-c', 'exec sleep 2147483647 > "$0"', fifo], env: { PATH: DEFAULT_PATH, [MARKER_ENV]: `${marker}.stdin` } }).catch(() => undefined);
      argv = ['/bin/sh', '-c', 'exec "$@" < "$0"', fifo, ...argv];
    }
    const env = await this.env(config, marker);
    const listeners = new Set<OutputListener>();
    const streamed = { stdout: 0, stderr: 0 };
    const onOutput: OutputListener = (stream, chunk) => {
      streamed[stream] += chunk.length;
      for (const listener of listeners) listener(stream, chunk);
    };
    const outcome = this.sandbox
      .exec({ argv, env, ...(config.cwd ? { cwd: config.cwd } : {}), onOutput })
      .then(
        (result): ProcessOutcome => ({ result }),
        (error: unknown): ProcessOutcome => ({ error: error instanceof Error ? error.message : String(error) }),
      );
    const record: ProcessRecord = {
      pid,
      config,
      stdin,
      outcome,
      finished: false,
      streamed,
      listen(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    };
    this.records.set(pid, record);
    void outcome.then(async () => {
      record.finished = true;
      this.records.delete(pid);
      if (stdin) {
        await this.signalMarker(`${marker}.stdin`, 'KILL').catch(() => false);
        await holder;
        await this.sandbox.exec({ argv: ['/bin/rm', '-f', this.fifo(pid)], env: { PATH: DEFAULT_PATH } }).catch(() => undefined);
      }
    });
    return record;
  }

  list(): ProcessRecord[] {
    return [...this.records.values()];
  }

  /** The running process by pid or tag; throws ProcessNotFoundError naming it. */
  find(selector: { pid?: number; tag?: string }): ProcessRecord {
    const found = selector.tag !== undefined ? this.list().find((r) => r.tag === selector.tag) : selector.pid !== undefined ? this.records.get(selector.pid) : undefined;
    if (!found) throw new ProcessNotFoundError(`process ${selector.tag !== undefined ? `with tag ${JSON.stringify(selector.tag)}` : `with pid ${selector.pid}`} not found`);
    return found;
  }

  private async signalMarker(marker: string, signal: 'KILL' | 'TERM'): Promise<boolean> {
    const result = await this.sandbox.exec({ argv: ['/bin/sh', '-c', SIGNAL_SCRIPT, signal, marker], env: { PATH: DEFAULT_PATH } });
    return result.exitCode === 0;
  }

  /**
   * Signals the command and whatever it started. A command asked to stop just after its start may not
   * be running in the sandbox yet: the search is repeated until it is found or its exec has ended.
   */
  async signal(record: ProcessRecord, signal: 'KILL' | 'TERM'): Promise<void> {
    const marker = `${this.scope}.${record.pid}`;
    for (let attempt = 0; attempt < 100 && !record.finished; attempt++) {
      if (await this.signalMarker(marker, signal)) return;
      await Promise.race([record.outcome, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
  }

  async sendInput(record: ProcessRecord, data: Uint8Array): Promise<void> {
    if (!record.stdin) throw new Error(`process ${record.pid} was started without stdin`);
    const result = await this.sandbox.exec({ argv: ['/bin/sh', '-c', 'cat > "$0"', this.fifo(record.pid)], env: { PATH: DEFAULT_PATH }, stdin: data });
    if (result.exitCode !== 0) throw new Error(`cannot write to the stdin of process ${record.pid}: ${result.stderr.toString().trim()}`);
  }

  async closeStdin(record: ProcessRecord): Promise<void> {
    if (!record.stdin) throw new Error(`process ${record.pid} was started without stdin`);
    await this.signalMarker(`${this.scope}.${record.pid}.stdin`, 'KILL');
  }
}
