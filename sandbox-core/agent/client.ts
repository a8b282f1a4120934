/**
 * The host's side of the agent protocol over any pair of byte streams: waits
 * for HELLO, then sends requests with fresh ids and settles each promise with
 * the reply carrying its id, in whatever order replies come. When the channel
 * ends, every pending request is rejected: a dead agent never leaves a caller hanging.
 */
import { constants } from 'node:os';
import type { BootStage, ExecRequest, ExecResult } from '../backends/types.ts';
import { encodeFrame, field, Fields, FrameDecoder, MessageType, Tag, type Field, type Frame } from './protocol.ts';

export interface AgentHello {
  /** The agent's build, e.g. "rigor-agent 3f2a…" or "node v20.20.2". */
  version: string;
  /** "native" or "node". */
  kind: string;
  /** Boot stages on the guest clock (ms), ending with the agent's own `agent_start`. */
  stages: BootStage[];
}

export interface ConnectOptions {
  /** Give up when HELLO has not arrived by then (default 30 000). */
  helloTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The agent answered a request with ERROR; the message is the agent's ("read /x: No such file or directory"). */
export class AgentError extends Error {
  override name = 'AgentError';
}

export type AgentExecResult = ExecResult & {
  /** Output beyond 16 MiB per stream was cut. */
  truncated: boolean;
};

interface Pending {
  expect: number;
  resolve(reply: Fields): void;
  reject(error: Error): void;
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

export class AgentClient {
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closedReason: string | undefined;
  #hello: AgentHello | undefined;
  #onHello: ((hello: AgentHello) => void) | undefined;

  private constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly writable: NodeJS.WritableStream,
  ) {}

  get hello(): AgentHello {
    return this.#hello as AgentHello;
  }

  /** Resolves once the agent's HELLO arrived; rejects when the channel ends, the timeout passes or `signal` aborts first. */
  static connect(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream, opts: ConnectOptions = {}): Promise<AgentClient> {
    const client = new AgentClient(readable, writable);
    const timeoutMs = opts.helloTimeoutMs ?? 30_000;
    return new Promise<AgentClient>((resolve, reject) => {
      const fail = (reason: string): void => {
        settle();
        client.#close(reason);
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
      client.#pending.set(0, { expect: MessageType.HELLO, resolve: () => undefined, reject: (error) => fail(error.message) });
      client.#listen();
    });
  }

  /** Round trip of a PING in ms (host clock). */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.#request(MessageType.PING, MessageType.PONG, []);
    return performance.now() - start;
  }

  async exec(req: ExecRequest): Promise<AgentExecResult> {
    const start = performance.now();
    const fields: Field[] = req.argv.map((arg) => field.string(Tag.ARGV, arg));
    for (const [name, value] of Object.entries(req.env ?? {})) fields.push(field.string(Tag.ENV, `${name}=${value}`));
    if (req.cwd !== undefined) fields.push(field.string(Tag.CWD, req.cwd));
    if (req.stdin !== undefined) fields.push(field.bytes(Tag.STDIN, req.stdin));
    if (req.timeoutMs !== undefined) fields.push(field.int(Tag.TIMEOUT_MS, req.timeoutMs));
    const reply = await this.#request(MessageType.EXEC, MessageType.EXEC_RESULT, fields);
    const exitCode = reply.int(Tag.EXIT_CODE) ?? -1;
    const signal = reply.int(Tag.SIGNAL) ?? 0;
    return {
      exitCode: exitCode === -1 ? null : exitCode,
      signal: signal === 0 ? null : (signalNames.get(signal) ?? `SIG${signal}`),
      stdout: reply.bytes(Tag.STDOUT) ?? Buffer.alloc(0),
      stderr: reply.bytes(Tag.STDERR) ?? Buffer.alloc(0),
      guest: { received: reply.ms(Tag.RECEIVED_MS) ?? NaN, spawned: reply.ms(Tag.SPAWNED_MS) ?? NaN, exited: reply.ms(Tag.EXITED_MS) ?? NaN },
      roundTripMs: performance.now() - start,
      timedOut: reply.int(Tag.TIMED_OUT) === 1,
      truncated: reply.int(Tag.TRUNCATED) === 1,
    };
  }

  async writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
    const fields = [field.string(Tag.PATH, path), field.bytes(Tag.DATA, data)];
    if (mode !== undefined) fields.push(field.int(Tag.MODE, mode));
    await this.#request(MessageType.WRITE_FILE, MessageType.OK, fields);
  }

  async readFile(path: string): Promise<Buffer> {
    const reply = await this.#request(MessageType.READ_FILE, MessageType.FILE_DATA, [field.string(Tag.PATH, path)]);
    return reply.bytes(Tag.DATA) ?? Buffer.alloc(0);
  }

  /** The agent's "key=value" lines: mem_total_kib, mem_available_kib, load1, uptime_ms, boot_id, pid_ns. */
  async stats(): Promise<Record<string, string>> {
    const reply = await this.#request(MessageType.STATS, MessageType.STATS_RESULT, []);
    return Object.fromEntries(reply.strings(Tag.LINE).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  }

  /** Ends the channel (the agent then kills its commands and exits); pending requests are rejected. */
  close(): void {
    this.#close('closed by the host');
  }

  #request(type: number, expect: number, fields: Field[]): Promise<Fields> {
    if (this.#closedReason !== undefined) return Promise.reject(new Error(`agent channel closed: ${this.#closedReason}`));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    let frame: Buffer;
    try {
      frame = encodeFrame(type, id, fields);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Fields>((resolve, reject) => {
      this.#pending.set(id, { expect, resolve, reject });
      this.writable.write(frame);
    });
  }

  #listen(): void {
    const decoder = new FrameDecoder();
    this.readable.on('data', (chunk: Buffer | string) => {
      if (this.#closedReason !== undefined) return;
      try {
        for (const frame of decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.#dispatch(frame);
      } catch (error) {
        this.#close(`unreadable data from the agent: ${(error as Error).message}`);
      }
    });
    this.readable.on('end', () => {
      const cut = decoder.buffered > 0 ? ` inside a frame (${decoder.buffered} bytes of it received)` : '';
      this.#close(`end of stream${cut}`);
    });
    this.readable.on('close', () => this.#close('stream closed'));
    this.readable.on('error', (error: Error) => this.#close(`read error: ${error.message}`));
    this.writable.on('error', (error: Error) => this.#close(`write error: ${error.message}`));
  }

  #dispatch(frame: Frame): void {
    const reply = Fields.of(frame);
    if (frame.type === MessageType.HELLO && this.#onHello) {
      this.#onHello({ version: reply.string(Tag.VERSION) ?? '', kind: reply.string(Tag.KIND) ?? '', stages: parseStages(reply.strings(Tag.STAGE)) });
      return;
    }
    if (frame.type === MessageType.ERROR && frame.id === 0) {
      this.#close(`agent: ${reply.string(Tag.MESSAGE) ?? 'error without a message'}`);
      return;
    }
    const pending = this.#pending.get(frame.id);
    if (!pending) return; // a reply to nobody (its request was given up): nothing waits for it
    this.#pending.delete(frame.id);
    if (frame.type === MessageType.ERROR) pending.reject(new AgentError(reply.string(Tag.MESSAGE) ?? 'error without a message'));
    else if (frame.type !== pending.expect) pending.reject(new Error(`agent answered with ${typeName(frame.type)}, expected ${typeName(pending.expect)}`));
    else pending.resolve(reply);
  }

  #close(reason: string): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new Error(`agent channel closed: ${reason}`));
    this.writable.end();
  }
}
