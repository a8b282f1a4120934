/**
 * The Node side of native/spawner.c: one persistent helper per run or batch in
 * flight (a pool, so concurrency c keeps c helpers), requests and answers framed
 * as the C file documents. Everything Node does happens outside the timed
 * window, and in a batch nothing of Node's happens between the runs either.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { assertExecPath, type BatchEnd, type BatchOptions, type BatchStop, type OutputMode, type ResolvedCommand, type RunOptions, type Spawner, type TimedRun } from './spawner.ts';
import { TailBuffer } from '../../base/tail.ts';

const MODE: Record<OutputMode, string> = { discard: 'd', pipe: 'p', keep: 'k', all: 'a' };
/** Bytes of stdout a TimedRun's stdoutTail holds. */
const TAIL_BYTES = 4096;
/**
 * How long a helper polls for its next request before blocking (native/spawner.c
 * wait_for_request). Only when it is the one run in flight: with concurrency,
 * a spinning helper would take CPU from the other runs.
 */
const SPIN_US = 300;
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number as number, name]));

interface Answer {
  kind: string;
  value: number;
  wallNs: number;
  userUs: number;
  sysUs: number;
  /** stdout's tail, or all of it in mode 'a'. */
  stdout: Buffer;
  stderr: Buffer;
  /** Bytes the run wrote to stdout (modes 'k' and 'a'). */
  outSize: number;
}

/** One helper process answering one request (a batch of runs) at a time. */
class Helper {
  readonly proc: ChildProcess;
  #buffer: Buffer = Buffer.alloc(0);
  /** Chunks read but not yet joined: an answer carrying a large stdout is joined once, when all of it is here. */
  #pending: Buffer[] = [];
  #pendingLength = 0;
  /** Bytes #buffer plus #pending must hold before an answer can be parsed (0: unknown, try at once). */
  #need = 0;
  #waiting: { onAnswers(answers: Answer[]): void; resolve(): void; reject(error: Error): void } | null = null;
  #stderr = new TailBuffer();
  #exit: Error | null = null;
  readonly started: Promise<void>;

  constructor(path: string) {
    // detached: its own process group, so a terminal's Ctrl-C reaches the runner only and the runner decides.
    this.proc = spawn(path, [String(process.pid)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.started = new Promise((resolve, reject) => {
      this.proc.once('spawn', resolve);
      this.proc.once('error', reject);
    });
    this.started.catch(() => {}); // a helper that never started is reported by request() or warm()
    this.proc.on('error', (error) => this.#fail(error));
    this.proc.stdout!.on('data', (chunk: Buffer) => this.#read(chunk));
    this.proc.stderr!.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    this.proc.stdin!.on('error', () => {}); // a dead helper is reported by 'exit'
    this.proc.on('exit', (code, signal) => {
      this.#fail(new Error(`native spawner exited (${signal ?? `code ${code}`}): ${this.#stderr.text().trim() || 'no stderr'}`));
    });
    this.#setRef(false);
  }

  get alive(): boolean {
    return this.#exit === null;
  }

  /** Send one request; answers go to `onAnswers` chunk by chunk, the promise settles when the batch is over. */
  request(frame: Buffer, onAnswers: (answers: Answer[]) => void): Promise<void> {
    if (this.#exit) return Promise.reject(this.#exit);
    this.#setRef(true);
    return new Promise<void>((resolve, reject) => {
      this.#waiting = { onAnswers, resolve, reject };
      this.proc.stdin!.write(frame);
    }).finally(() => this.#setRef(false));
  }

  /** Abort the running batch: "!" makes it certain, SIGUSR1 prompt (see native/spawner.c). */
  abort(): void {
    if (!this.alive || !this.#waiting) return;
    this.proc.stdin!.write('!\n');
    this.proc.kill('SIGUSR1');
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.#setRef(true);
    this.abort();
    this.proc.stdin!.end();
    await exited;
  }

  #setRef(on: boolean): void {
    // An idle helper must not keep the runner's event loop alive.
    const handles = [this.proc, this.proc.stdin, this.proc.stdout, this.proc.stderr] as unknown as { ref(): void; unref(): void }[];
    for (const handle of handles) if (on) handle.ref();
    else handle.unref();
  }

  #fail(error: Error): void {
    this.#exit ??= error;
    this.#waiting?.reject(error);
    this.#waiting = null;
  }

  #read(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    if (this.#buffer.length + this.#pendingLength < this.#need) return;
    this.#buffer = Buffer.concat([this.#buffer, ...this.#pending]);
    this.#pending = [];
    this.#pendingLength = 0;
    this.#need = 0;
    const waiting = this.#waiting;
    if (!waiting) return;
    const answers: Answer[] = [];
    let ended = false;
    for (let newline = this.#buffer.indexOf(10); newline >= 0 && !ended; newline = this.#buffer.indexOf(10)) {
      const [kind = '', ...numbers] = this.#buffer.subarray(0, newline).toString('latin1').split(' ');
      const [value = 0, wallNs = 0, userUs = 0, sysUs = 0, outLength = 0, errLength = 0, outSize = 0] = numbers.map(Number);
      const end = newline + 1 + outLength + errLength;
      if (this.#buffer.length < end) {
        this.#need = end;
        break;
      }
      const body = this.#buffer.subarray(newline + 1, end);
      this.#buffer = this.#buffer.subarray(end);
      if (kind === '.') ended = true;
      else answers.push({ kind, value, wallNs, userUs, sysUs, stdout: body.subarray(0, outLength), stderr: body.subarray(outLength), outSize });
    }
    if (answers.length > 0) waiting.onAnswers(answers);
    if (!ended) return;
    this.#waiting = null;
    waiting.resolve();
  }
}

/** Why an answer ends its batch (native/spawner.c ends it on the same rule), or null when the run counts. */
function stopOf(answer: Answer, command: ResolvedCommand, opts: BatchOptions): BatchStop | null {
  if (answer.kind === 't') return { reason: 'timeout' };
  if (answer.kind === 'e') return { reason: 'cannot-start', message: `cannot start ${command.argv[0]}: ${getSystemErrorName(-answer.value)}` };
  if (opts.expectExit === 'any' || (answer.kind === 'x' && answer.value === opts.expectExit)) return null;
  return { reason: 'exit', run: timedRun(answer, opts.output) };
}

function timedRun(answer: Answer, output: OutputMode): TimedRun {
  return {
    exitCode: answer.kind === 'x' ? answer.value : null,
    signal: answer.kind === 's' ? (SIGNAL_NAMES.get(answer.value) ?? `signal ${answer.value}`) : null,
    wallMs: answer.wallNs / 1e6,
    userMs: answer.userUs / 1000,
    sysMs: answer.sysUs / 1000,
    ...(output === 'keep' ? { stdoutTail: answer.stdout.toString('utf8'), stdoutBytes: answer.outSize } : {}),
    ...(output === 'all' ? { stdoutTail: tail(answer.stdout), stdoutBytes: answer.outSize, stdout: answer.stdout } : {}),
    stderrTail: answer.stderr.toString('utf8'),
  };
}

/** The last TAIL_BYTES of a buffer as text. */
function tail(bytes: Buffer): string {
  return bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)).toString('utf8');
}

export class NativeSpawner implements Spawner {
  readonly kind = 'native' as const;
  #idle: Helper[] = [];
  #busy = 0;
  #all = new Set<Helper>();
  #envFrames = new WeakMap<object, { count: number; bytes: Buffer }>();

  constructor(readonly helperPath: string) {}

  /** Start one helper now, so a binary that cannot run is found before sampling. */
  async warm(): Promise<void> {
    const helper = this.#take();
    await helper.started;
    this.#idle.push(helper);
  }

  async run(command: ResolvedCommand, opts: RunOptions): Promise<TimedRun> {
    let run: TimedRun | undefined;
    const end = await this.runBatch(command, { ...opts, count: 1, expectExit: 'any', onRuns: ([first]) => (run = first) });
    if (end.stop?.reason === 'timeout') throw new Error(`${command.argv[0]} took longer than ${opts.timeoutMs} ms and was killed`);
    if (end.stop?.reason === 'cannot-start') throw new Error(end.stop.message);
    if (!run) throw new Error(`native spawner: no answer for ${command.argv[0]}`);
    return run;
  }

  async runBatch(command: ResolvedCommand, opts: BatchOptions): Promise<BatchEnd> {
    const { signal } = opts;
    signal.throwIfAborted();
    assertExecPath(command);
    const helper = this.#take();
    const onAbort = () => helper.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let done = 0;
    let stop: BatchStop | null = null;
    const onAnswers = (answers: Answer[]) => {
      const runs: TimedRun[] = [];
      for (const answer of answers) {
        stop ??= stopOf(answer, command, opts);
        if (!stop) runs.push(timedRun(answer, opts.output));
      }
      done += runs.length;
      if (runs.length > 0) opts.onRuns(runs);
    };
    this.#busy++;
    try {
      await helper.request(this.#frame(command, opts, this.#busy === 1 ? SPIN_US : 0), onAnswers);
    } finally {
      this.#busy--;
      signal.removeEventListener('abort', onAbort);
      if (helper.alive) this.#idle.push(helper);
      else this.#all.delete(helper);
    }
    signal.throwIfAborted();
    return stop ? { done, stop } : { done };
  }

  helperPids(): number[] {
    return [...this.#all].filter((helper) => helper.alive && helper.proc.pid !== undefined).map((helper) => helper.proc.pid!);
  }

  async close(): Promise<void> {
    const helpers = [...this.#all];
    this.#all.clear();
    this.#idle = [];
    await Promise.all(helpers.map((helper) => helper.close()));
  }

  #take(): Helper {
    let helper = this.#idle.pop();
    while (helper && !helper.alive) {
      this.#all.delete(helper);
      helper = this.#idle.pop();
    }
    if (helper) return helper;
    helper = new Helper(this.helperPath);
    this.#all.add(helper);
    return helper;
  }

  #frame({ file, argv }: ResolvedCommand, opts: BatchOptions, spinUs: number): Buffer {
    const env = this.#envFrame(opts.env);
    const timeoutMs = Number.isFinite(opts.timeoutMs) ? Math.max(1, Math.ceil(opts.timeoutMs)) : 0;
    const expect = opts.expectExit === 'any' ? -1 : opts.expectExit;
    const header = `${MODE[opts.output]} ${argv.length} ${env.count} ${spinUs} ${opts.count} ${timeoutMs} ${expect}`;
    const head = `${header}\n${opts.cwd ?? ''}\0${file}\0${argv.join('\0')}\0`;
    return Buffer.concat([Buffer.from(head), env.bytes]);
  }

  /** The child's environment (runner's env + opts.env), encoded once per env object. */
  #envFrame(extra: Record<string, string> | undefined): { count: number; bytes: Buffer } {
    const key = extra ?? process.env;
    let frame = this.#envFrames.get(key);
    if (!frame) {
      const entries = Object.entries({ ...process.env, ...extra }).filter(([, value]) => value !== undefined);
      frame = { count: entries.length, bytes: Buffer.from(entries.map(([k, v]) => `${k}=${v}\0`).join('')) };
      this.#envFrames.set(key, frame);
    }
    return frame;
  }
}
