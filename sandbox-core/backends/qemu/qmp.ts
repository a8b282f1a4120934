/**
 * A minimal QMP client (QEMU Machine Protocol, docs/interop/qmp-spec.rst):
 * one JSON object per line over a unix socket. After the greeting the
 * client negotiates capabilities; each command carries an id and its reply
 * repeats it; asynchronous events ({"event": ...}) are ignored here.
 */
import { connect, type Socket } from 'node:net';

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class QmpClient {
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: string | undefined;

  private constructor(private readonly socket: Socket) {}

  /** Connects to a listening QMP socket and negotiates; rejects when the socket closes first. */
  static connect(path: string): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const client = new QmpClient(socket);
      let greeted = false;
      socket.once('error', (error) => reject(new Error(`QMP ${path}: ${error.message}`)));
      client.#listen((message) => {
        if (greeted || !('QMP' in message)) return;
        greeted = true;
        client.execute('qmp_capabilities').then(() => resolve(client), reject);
      });
      socket.once('close', () => reject(new Error(`QMP ${path}: closed before the greeting`)));
    });
  }

  /** Runs a command; resolves with its "return", rejects with its "error" description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(new Error(`QMP ${command}: ${this.#closed}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { command, resolve, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #listen(onOther: (message: Record<string, unknown>) => void): void {
    let buffered = '';
    this.socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) this.#dispatch(JSON.parse(line) as Record<string, unknown>, onOther);
      }
    });
    this.socket.on('close', () => this.#fail('connection closed'));
    this.socket.on('error', (error) => this.#fail(error.message));
  }

  #dispatch(message: Record<string, unknown>, onOther: (message: Record<string, unknown>) => void): void {
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return onOther(message);
    this.#pending.delete(message.id as number);
    const error = message.error as { class?: string; desc?: string } | undefined;
    if (error) pending.reject(new Error(`QMP ${pending.command}: ${error.desc ?? error.class ?? 'error'}`));
    else pending.resolve(message.return);
  }

  #fail(reason: string): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    for (const pending of this.#pending.values()) pending.reject(new Error(`QMP ${pending.command}: ${reason}`));
    this.#pending.clear();
  }
}
