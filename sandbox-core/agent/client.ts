/**
 * The host's side of the agent protocol over any pair of byte streams: waits
 * for HELLO, then sends requests with fresh ids and settles each promise with
 * the reply carrying its id, in whatever order replies come. When the channel
 * ends, every pending request is rejected: a dead agent never leaves a caller hanging.
 * Nor does a stopped or lying one: every request but an exec without a timeout
 * has a host-side deadline; a missed one marks the channel broken (see AgentDeadlineError).
 */
import { constants } from 'node:os';
import type { BootStage, ExecRequest, ExecResult } from '../backends/types.ts';
import { encodeFrame, field, Fields, FrameDecoder, FrameError, MAX_OUTPUT_BYTES, MessageType, Tag, type Field, type Frame } from './protocol.ts';

export interface AgentHello {
  /** The agent's build, e.g. "rigor-agent 3f2a…" or "node v20.20.2". */
  version: string;
  /** "native" or "node". */
  kind: string;
  /** Boot stages on the guest clock (ms), ending with the agent's own `agent_start`. */
  stages: BootStage[];
}

/** Host-side deadline of ping, writeFile, readFile and stats unless ConnectOptions.requestDeadlineMs says otherwise. */
export const DEFAULT_REQUEST_DEADLINE_MS = 30_000;
/**
 * Added to an exec's timeoutMs for its host-side deadline: room for the agent's
 * kill of the command, the output drain and the reply's transfer. An exec
 * without timeoutMs (or 0) may run as long as it likes and has no deadline.
 */
export const EXEC_DEADLINE_GRACE_MS = 5_000;

export interface ConnectOptions {
  /** Give up when HELLO has not arrived by then (default 30 000). */
  helloTimeoutMs?: number;
  signal?: AbortSignal;
  /** Deadline of ping, writeFile, readFile and stats (default DEFAULT_REQUEST_DEADLINE_MS). */
  requestDeadlineMs?: number;
  /** Added to an exec's timeoutMs for its deadline (default EXEC_DEADLINE_GRACE_MS). */
  execGraceMs?: number;
  /** Called once when the channel is marked broken, after every pending request was rejected; same as client.onBroken(). */
  onBroken?: (error: AgentChannelBrokenError) => void;
}

/** The agent answered a request with ERROR; the message is the agent's ("read /x: No such file or directory"). */
export class AgentError extends Error {
  override name = 'AgentError';
}

/** The channel is closed: what was pending then, and every later request, fails with this ("agent channel closed: end of stream"). */
export class AgentChannelClosedError extends Error {
  override name = 'AgentChannelClosedError';
  constructor(readonly reason: string) {
    super(`agent channel closed: ${reason}`);
  }
}

/** The channel was closed because nothing more the agent sends can be trusted: unreadable data, or a missed deadline. */
export class AgentChannelBrokenError extends AgentChannelClosedError {
  override name = 'AgentChannelBrokenError';
}

/** The agent missed the deadline of request `requestId` (a stopped agent, a frame that never completes): the channel is broken. */
export class AgentDeadlineError extends AgentChannelBrokenError {
  override name = 'AgentDeadlineError';
  constructor(
    readonly requestType: string,
    readonly requestId: number,
    readonly deadlineMs: number,
  ) {
    super(`agent missed the ${deadlineMs} ms deadline of ${requestType} #${requestId}: channel marked broken`);
  }
}

export type AgentExecResult = ExecResult & {
  /** Output beyond 16 MiB per stream was cut. */
  truncated: boolean;
};

interface Pending {
  /** The request's type (0 for the HELLO wait) and the reply's it expects. */
  type: number;
  expect: number;
  resolve(reply: Fields): void;
  reject(error: Error): void;
  /** A streaming EXEC's OUTPUT frames, as they come. */
  onOutput?(reply: Fields): void;
  /** The request's deadline in ms (undefined: none) and, while its timer runs, when it passes (performance.now()). */
  deadlineMs?: number;
  leftMs?: number;
  due?: number;
  timer?: NodeJS.Timeout;
}

const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));
const typeNames = new Map<number, string>(Object.entries(MessageType).map(([name, type]) => [type, name]));

function typeName(type: number): string {
  return typeNames.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

/** HELLO's "name=ms" stage strings as BootStages. */
function parseStages(lines: string[]): BootStage[] {
  return lines.map((line) => {
    const at = line.indexOf('=');
    return { name: line.slice(0, at), ms: Number(line.slice(at + 1)) };
  });
}

/** A streamed stream's output kept for the result, up to MAX_OUTPUT_BYTES as the agent keeps a whole reply's. */
class OutputKept {
  #chunks: Buffer[] = [];
  #length = 0;
  cut = false;

  add(chunk: Buffer): void {
    const keep = Math.min(chunk.length, MAX_OUTPUT_BYTES - this.#length);
    if (keep < chunk.length) this.cut = true;
    if (keep > 0) this.#chunks.push(chunk.subarray(0, keep));
    this.#length += keep;
  }

  /** What was streamed, then the rest the EXEC_RESULT carried. */
  join(rest: Buffer | undefined): { bytes: Buffer; cut: boolean } {
    if (rest && rest.length > 0) this.add(rest);
    return { bytes: Buffer.concat(this.#chunks, this.#length), cut: this.cut };
  }
}

export class AgentClient {
  #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Makes the error of a request on a closed channel; set once, when it closes. */
  #closed: (() => AgentChannelClosedError) | undefined;
  #broken: AgentChannelBrokenError | undefined;
  #brokenListeners: Array<(error: AgentChannelBrokenError) => void> = [];
  #suspended = false;
  #hello: AgentHello | undefined;
  #onHello: ((hello: AgentHello) => void) | undefined;
  readonly #requestDeadlineMs: number;
  readonly #execGraceMs: number;

  private constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly writable: NodeJS.WritableStream,
    opts: ConnectOptions,
  ) {
    this.#requestDeadlineMs = opts.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    this.#execGraceMs = opts.execGraceMs ?? EXEC_DEADLINE_GRACE_MS;
    if (opts.onBroken) this.#brokenListeners.push(opts.onBroken);
  }

  get hello(): AgentHello {
    return this.#hello as AgentHello;
  }

  /** Resolves once the agent's HELLO arrived; rejects when the channel ends, the timeout passes or `signal` aborts first. */
  static connect(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream, opts: ConnectOptions = {}): Promise<AgentClient> {
    const client = new AgentClient(readable, writable, opts);
    const timeoutMs = opts.helloTimeoutMs ?? 30_000;
    return new Promise<AgentClient>((resolve, reject) => {
      const fail = (reason: string): void => {
        settle();
        client.#close(() => new AgentChannelClosedError(reason));
        reject(new Error(`agent did not say hello: ${reason}`));
      };
      const onAbort = (): void => fail(`aborted (${String(opts.signal?.reason)})`);
      const timer = setTimeout(() => fail(`no HELLO within ${timeoutMs} ms`), timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        client.#onHello = undefined;
        client.#pending.delete(0);
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      client.#onHello = (hello) => {
        settle();
        client.#hello = hello;
        resolve(client);
      };
      // Id 0 stands for the HELLO wait, so a channel that ends first rejects it like any request.
      client.#pending.set(0, { type: 0, expect: MessageType.HELLO, resolve: () => undefined, reject: (error) => fail(error.message) });
      client.#listen();
    });
  }

  /**
   * A client for an agent that said HELLO before its guest was saved and restored (a snapshot): no HELLO
   * comes again, so `hello` is the one the snapshot kept, and ids start at `firstId` (the saved client's
   * next id), so a reply the restored agent still owed the saved client matches no request of this one.
   */
  static adopt(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream, hello: AgentHello, firstId: number, opts: ConnectOptions = {}): AgentClient {
    if (!(Number.isInteger(firstId) && firstId >= 1 && firstId <= 0xffffffff)) throw new Error(`agent client: first request id must be 1..${0xffffffff}, found ${firstId}`);
    const client = new AgentClient(readable, writable, opts);
    client.#hello = hello;
    client.#nextId = firstId;
    client.#listen();
    return client;
  }

  /** The id the next request will carry (a snapshot keeps it: see adopt()). */
  get nextId(): number {
    return this.#nextId;
  }

  /**
   * RESEED: mixes `entropy` (at most 512 bytes) into the guest kernel's pool and reseeds its CRNG, and
   * sets its wall clock to `epochUs` (µs since the Unix epoch); what a restored snapshot needs to be fresh.
   */
  async reseed(entropy: Uint8Array, epochUs: number): Promise<void> {
    await this.#request(MessageType.RESEED, MessageType.OK, [field.bytes(Tag.ENTROPY, entropy), field.int(Tag.EPOCH_US, epochUs)], this.#requestDeadlineMs);
  }

  /** Round trip of a PING in ms (host clock). */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.#request(MessageType.PING, MessageType.PONG, [], this.#requestDeadlineMs);
    return performance.now() - start;
  }

  async exec(req: ExecRequest): Promise<AgentExecResult> {
    const start = performance.now();
    const fields: Field[] = req.argv.map((arg) => field.string(Tag.ARGV, arg));
    for (const [name, value] of Object.entries(req.env ?? {})) fields.push(field.string(Tag.ENV, `${name}=${value}`));
    if (req.cwd !== undefined) fields.push(field.string(Tag.CWD, req.cwd));
    if (req.stdin !== undefined) fields.push(field.bytes(Tag.STDIN, req.stdin));
    if (req.timeoutMs !== undefined) fields.push(field.int(Tag.TIMEOUT_MS, req.timeoutMs));
    // Streamed output is passed on as it comes and kept for the result, which holds what a whole reply would: up to 16 MiB a stream.
    const streamed = { stdout: new OutputKept(), stderr: new OutputKept() };
    let onOutput: ((reply: Fields) => void) | undefined;
    if (req.onOutput) {
      const listener = req.onOutput;
      fields.push(field.int(Tag.STREAM, 1));
      onOutput = (frame) => {
        for (const [tag, stream] of [[Tag.STDOUT, 'stdout'], [Tag.STDERR, 'stderr']] as const) {
          const chunk = frame.bytes(tag);
          if (chunk === undefined || chunk.length === 0) continue;
          streamed[stream].add(chunk);
          listener(stream, chunk);
        }
      };
    }
    // timeoutMs 0 means none to the agent, so no deadline either.
    const deadlineMs = req.timeoutMs ? req.timeoutMs + this.#execGraceMs : undefined;
    const reply = await this.#request(MessageType.EXEC, MessageType.EXEC_RESULT, fields, deadlineMs, onOutput);
    const exitCode = reply.int(Tag.EXIT_CODE) ?? -1;
    const signal = reply.int(Tag.SIGNAL) ?? 0;
    const stdout = streamed.stdout.join(reply.bytes(Tag.STDOUT));
    const stderr = streamed.stderr.join(reply.bytes(Tag.STDERR));
    return {
      exitCode: exitCode === -1 ? null : exitCode,
      signal: signal === 0 ? null : (signalNames.get(signal) ?? `SIG${signal}`),
      stdout: stdout.bytes,
      stderr: stderr.bytes,
      guest: { received: reply.ms(Tag.RECEIVED_MS) ?? NaN, spawned: reply.ms(Tag.SPAWNED_MS) ?? NaN, exited: reply.ms(Tag.EXITED_MS) ?? NaN },
      roundTripMs: performance.now() - start,
      timedOut: reply.int(Tag.TIMED_OUT) === 1,
      truncated: reply.int(Tag.TRUNCATED) === 1 || stdout.cut || stderr.cut,
    };
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    const fields = [field.string(Tag.PATH, path), field.bytes(Tag.DATA, data)];
    if (mode !== undefined) fields.push(field.int(Tag.MODE, mode));
    await this.#request(MessageType.WRITE_FILE, MessageType.OK, fields, this.#requestDeadlineMs);
  }

  async readFile(path: string): Promise<Buffer> {
    const reply = await this.#request(MessageType.READ_FILE, MessageType.FILE_DATA, [field.string(Tag.PATH, path)], this.#requestDeadlineMs);
    return reply.bytes(Tag.DATA) ?? Buffer.alloc(0);
  }

  /** The agent's "key=value" lines: mem_total_kib, mem_available_kib, load1, uptime_ms, boot_id, pid_ns. */
  async stats(): Promise<Record<string, string>> {
    const reply = await this.#request(MessageType.STATS, MessageType.STATS_RESULT, [], this.#requestDeadlineMs);
    return Object.fromEntries(reply.strings(Tag.LINE).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  }

  /** Ends the channel (the agent then kills its commands and exits); pending requests are rejected. */
  close(): void {
    this.#close(() => new AgentChannelClosedError('closed by the host'));
  }

  /** Why the channel was marked broken, if it was. */
  get broken(): AgentChannelBrokenError | undefined {
    return this.#broken;
  }

  /** Calls `listener` once when the channel is marked broken (a missed deadline, unreadable data); at once if it already is. */
  onBroken(listener: (error: AgentChannelBrokenError) => void): void {
    if (this.#broken) listener(this.#broken);
    else if (this.#closed === undefined) this.#brokenListeners.push(listener);
  }

  /**
   * Stops the deadline clocks of pending and new requests until resumeDeadlines()
   * (both idempotent): a sandbox paused on purpose holds its requests in the
   * channel, and its stopped agent is not a broken one.
   */
  suspendDeadlines(): void {
    if (this.#suspended) return;
    this.#suspended = true;
    const now = performance.now();
    for (const pending of this.#pending.values()) {
      if (pending.timer === undefined) continue;
      clearTimeout(pending.timer);
      pending.timer = undefined;
      pending.leftMs = Math.max(0, (pending.due as number) - now);
    }
  }

  /** Restarts the clocks suspendDeadlines() stopped, each with the time it had left. */
  resumeDeadlines(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    for (const [id, pending] of this.#pending) this.#startDeadline(id, pending);
  }

  #request(type: number, expect: number, fields: Field[], deadlineMs: number | undefined, onOutput?: (reply: Fields) => void): Promise<Fields> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed());
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    let frame: Buffer;
    try {
      frame = encodeFrame(type, id, fields);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Fields>((resolve, reject) => {
      const settle = <T>(then: (value: T) => void) => (value: T): void => {
        clearTimeout(pending.timer);
        then(value);
      };
      const pending: Pending = { type, expect, resolve: settle(resolve), reject: settle(reject), deadlineMs, leftMs: deadlineMs, ...(onOutput ? { onOutput } : {}) };
      this.#pending.set(id, pending);
      this.#startDeadline(id, pending);
      this.writable.write(frame);
    });
  }

  /** Arms the request's deadline timer for the time it has left, unless deadlines are suspended or it has none. */
  #startDeadline(id: number, pending: Pending): void {
    if (this.#suspended || pending.leftMs === undefined || pending.deadlineMs === undefined) return;
    const { deadlineMs } = pending;
    pending.due = performance.now() + pending.leftMs;
    // Covers a reply that never starts and one whose frame stalls half-way: either way this request is not settled.
    // setTimeout fires at once beyond 2^31-1 ms; a deadline that far is as good as that.
    const delay = Math.min(pending.leftMs, 2 ** 31 - 1);
    pending.timer = setTimeout(() => this.#break(() => new AgentDeadlineError(typeName(pending.type), id, deadlineMs)), delay);
  }

  #listen(): void {
    const decoder = new FrameDecoder();
    this.readable.on('data', (chunk: Buffer | string) => {
      if (this.#closed !== undefined) return;
      try {
        for (const frame of decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.#dispatch(frame);
      } catch (error) {
        // Replies whole before a bad length still settle their requests; the channel breaks after them.
        if (error instanceof FrameError) for (const frame of error.frames) this.#dispatchQuietly(frame);
        const reason = `unreadable data from the agent: ${(error as Error).message}`;
        this.#break(() => new AgentChannelBrokenError(reason));
      }
    });
    this.readable.on('end', () => {
      const cut = decoder.buffered > 0 ? ` inside a frame (${decoder.buffered} bytes of it received)` : '';
      this.#close(() => new AgentChannelClosedError(`end of stream${cut}`));
    });
    this.readable.on('close', () => this.#close(() => new AgentChannelClosedError('stream closed')));
    this.readable.on('error', (error: Error) => this.#close(() => new AgentChannelClosedError(`read error: ${error.message}`)));
    this.writable.on('error', (error: Error) => this.#close(() => new AgentChannelClosedError(`write error: ${error.message}`)));
  }

  /** #dispatch for the frames before a bad length: one with malformed fields is dropped, as the channel breaks anyway. */
  #dispatchQuietly(frame: Frame): void {
    try {
      this.#dispatch(frame);
    } catch {
      // FieldError: nothing more to do than the break that follows
    }
  }

  #dispatch(frame: Frame): void {
    const reply = Fields.of(frame);
    if (frame.type === MessageType.HELLO && this.#onHello) {
      this.#onHello({ version: reply.string(Tag.VERSION) ?? '', kind: reply.string(Tag.KIND) ?? '', stages: parseStages(reply.strings(Tag.STAGE)) });
      return;
    }
    if (frame.type === MessageType.ERROR && frame.id === 0) {
      // The agent found our stream unreadable and is exiting: nothing on this channel can be trusted any more.
      const reason = `agent: ${reply.string(Tag.MESSAGE) ?? 'error without a message'}`;
      this.#break(() => new AgentChannelBrokenError(reason));
      return;
    }
    const pending = this.#pending.get(frame.id);
    if (!pending) return; // a reply to nobody (its request was given up): nothing waits for it
    if (frame.type === MessageType.OUTPUT) {
      // Part of a streaming EXEC's output: its request still waits for the EXEC_RESULT.
      if (pending.onOutput) return pending.onOutput(reply);
      this.#pending.delete(frame.id);
      pending.reject(new Error(`agent sent OUTPUT for ${typeName(pending.type)} #${frame.id}, which did not ask for streamed output`));
      return;
    }
    this.#pending.delete(frame.id);
    if (frame.type === MessageType.ERROR) pending.reject(new AgentError(reply.string(Tag.MESSAGE) ?? 'error without a message'));
    else if (frame.type !== pending.expect) pending.reject(new Error(`agent answered with ${typeName(frame.type)}, expected ${typeName(pending.expect)}`));
    else pending.resolve(reply);
  }

  /** Closes the channel as broken, then tells the onBroken listeners. */
  #break(error: () => AgentChannelBrokenError): void {
    if (this.#closed !== undefined) return;
    const broken = error();
    this.#broken = broken;
    this.#close(error);
    // Nothing more is worth sending either: drop what still waits to be written (a stopped agent never reads it).
    (this.writable as NodeJS.WritableStream & { destroy?: () => void }).destroy?.();
    for (const listener of this.#brokenListeners.splice(0)) listener(broken);
  }

  #close(error: () => AgentChannelClosedError): void {
    if (this.#closed !== undefined) return;
    this.#closed = error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error());
    if (!this.#broken) this.#brokenListeners = []; // closed otherwise: it never breaks now
    this.writable.end();
  }
}
