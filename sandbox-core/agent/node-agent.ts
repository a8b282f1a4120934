/**
 * The guest agent on Node: the protocol of PROTOCOL.md as native/agent.c
 * speaks it (HELLO kind "node"), so the exec rig can measure what running the
 * agent on Node costs. Started by node-agent-main.ts.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, open, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { getSystemErrorMap } from 'node:util';
import {
  encodeFrame,
  field,
  FieldError,
  Fields,
  FrameDecoder,
  FrameError,
  MAX_FILE_BYTES,
  MAX_OUTPUT_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  Tag,
  type Field,
  type Frame,
} from './protocol.ts';
import { DEFAULT_PATH } from '../default-path.ts';

/** After a command exits, how long to wait for its pipes to close; a process that left its group may hold them for ever. */
const PIPE_GRACE_MS = 100;

/**
 * CLOCK_BOOTTIME in ms. Node reads only CLOCK_MONOTONIC, which stops while the
 * machine is suspended; the difference is taken once from /proc/uptime (10 ms
 * resolution), and only when it is larger than that resolution.
 */
const bootOffsetMs = (() => {
  const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  const offset = uptimeMs - Number(process.hrtime.bigint()) / 1e6;
  return offset > 20 ? offset : 0;
})();

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6 + bootOffsetMs;
}

/** "exec ls: No such file or directory": the errno text as the C agent's strerror would say it. */
function describe(error: unknown): string {
  const errno = (error as NodeJS.ErrnoException).errno;
  const text = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1];
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : String((error as Error).message ?? error);
}

interface Channel {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** The virtio-serial port named rigor.agent, waited for while the kernel probes it. */
async function findVirtioPort(): Promise<string> {
  for (let tries = 0; tries < 500; tries++) {
    try {
      for (const port of readdirSync('/sys/class/virtio-ports')) {
        if (readFileSync(`/sys/class/virtio-ports/${port}/name`, 'utf8').trim() === 'rigor.agent') return `/dev/${port}`;
      }
    } catch {
      // not there yet
    }
    await sleep(10);
  }
  throw new Error('virtio port rigor.agent: not found in /sys/class/virtio-ports');
}

async function openChannel(port: string | undefined): Promise<Channel> {
  if (port === undefined) return { input: process.stdin, output: process.stdout };
  const path = port === 'auto' ? await findVirtioPort() : port;
  if ((await stat(path)).isSocket()) {
    const socket = connect(path);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return { input: socket, output: socket };
  }
  const handle = await open(path, 'r+');
  return { input: createReadStream('', { fd: handle.fd, autoClose: false }), output: createWriteStream('', { fd: handle.fd, autoClose: false }) };
}

class NodeAgent {
  /** Process groups of the commands running now. */
  #running = new Set<number>();

  constructor(private readonly output: NodeJS.WritableStream) {}

  send(type: number, id: number, fields: Field[] = []): void {
    this.output.write(encodeFrame(type, id, fields));
  }

  error(id: number, message: string): void {
    this.send(MessageType.ERROR, id, [field.string(Tag.MESSAGE, message)]);
  }

  /** Kills every command still running and exits. */
  shutdown(code: number): never {
    for (const group of this.#running) killGroup(group);
    process.exit(code);
  }

  async handle(frame: Frame): Promise<void> {
    const received = nowMs();
    if (frame.version !== PROTOCOL_VERSION) return this.error(frame.id, `unsupported protocol version ${frame.version}`);
    let fields: Fields;
    try {
      fields = Fields.of(frame);
    } catch (error) {
      if (error instanceof FieldError) return this.error(frame.id, error.message);
      throw error;
    }
    switch (frame.type) {
      case MessageType.PING:
        return this.send(MessageType.PONG, frame.id, [field.ms(Tag.NOW_MS, nowMs())]);
      case MessageType.EXEC:
        return this.exec(frame.id, fields, received);
      case MessageType.WRITE_FILE:
        return this.writeFile(frame.id, fields);
      case MessageType.READ_FILE:
        return this.readFile(frame.id, fields);
      case MessageType.STATS:
        return this.send(MessageType.STATS_RESULT, frame.id, statsLines().map((line) => field.string(Tag.LINE, line)));
      default:
        return this.error(frame.id, `unknown message type 0x${frame.type.toString(16).padStart(2, '0')}`);
    }
  }

  async exec(id: number, fields: Fields, received: number): Promise<void> {
    const [command, ...args] = fields.strings(Tag.ARGV);
    if (command === undefined) return this.error(id, 'exec: argv is empty');
    const env = Object.fromEntries(fields.strings(Tag.ENV).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    env.PATH ??= DEFAULT_PATH;
    const cwd = fields.string(Tag.CWD);
    const timeoutMs = fields.int(Tag.TIMEOUT_MS) ?? 0;
    const child = spawn(command, args, { cwd, env, stdio: 'pipe', detached: true });
    const started = await new Promise<Error | undefined>((resolve) => child.once('spawn', () => resolve(undefined)).once('error', resolve));
    if (started !== undefined || child.pid === undefined) {
      // libuv reports a missing cwd as the command's ENOENT; tell them apart as the C agent does.
      const cwdMissing = cwd !== undefined && (await stat(cwd).then(() => false, () => true));
      return this.error(id, cwdMissing ? `chdir ${cwd}: No such file or directory` : `exec ${command}: ${describe(started)}`);
    }
    const group = child.pid;
    const spawned = nowMs();
    this.#running.add(group);
    child.stdin.on('error', () => undefined); // EPIPE: the command does not read its stdin
    child.stdin.end(fields.bytes(Tag.STDIN));
    const stdout = new Capture(child.stdout);
    const stderr = new Capture(child.stderr);
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), killGroup(group)), Math.max(0, received + timeoutMs - nowMs())) : undefined;
    // 'close' (all pipes shut) may come in the same tick as 'exit', so both are listened for now.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    const exited = nowMs();
    clearTimeout(timer);
    killGroup(group); // what is left of its group goes with it
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (grace = setTimeout(resolve, PIPE_GRACE_MS)))]);
    clearTimeout(grace);
    child.stdout.destroy();
    child.stderr.destroy();
    this.#running.delete(group);
    const reply = [
      field.int(Tag.EXIT_CODE, code ?? -1),
      field.int(Tag.SIGNAL, signal ? constants.signals[signal] : 0),
      field.bytes(Tag.STDOUT, stdout.bytes()),
      field.bytes(Tag.STDERR, stderr.bytes()),
      field.int(Tag.TIMED_OUT, timedOut ? 1 : 0),
      field.ms(Tag.RECEIVED_MS, received),
      field.ms(Tag.SPAWNED_MS, spawned),
      field.ms(Tag.EXITED_MS, exited),
    ];
    if (stdout.truncated || stderr.truncated) reply.push(field.int(Tag.TRUNCATED, 1));
    this.send(MessageType.EXEC_RESULT, id, reply);
  }

  async writeFile(id: number, fields: Fields): Promise<void> {
    const path = fields.string(Tag.PATH);
    if (path === undefined) return this.error(id, 'write: no path');
    const mode = fields.int(Tag.MODE);
    try {
      const file = await open(path, 'w', mode ?? 0o644);
      try {
        await file.writeFile(fields.bytes(Tag.DATA) ?? Buffer.alloc(0));
      } finally {
        await file.close();
      }
      if (mode !== undefined) await chmod(path, mode);
      this.send(MessageType.OK, id);
    } catch (error) {
      this.error(id, `write ${path}: ${describe(error)}`);
    }
  }

  async readFile(id: number, fields: Fields): Promise<void> {
    const path = fields.string(Tag.PATH);
    if (path === undefined) return this.error(id, 'read: no path');
    try {
      // /proc files say size 0, so the size is checked again after reading.
      const data = (await stat(path)).size > MAX_FILE_BYTES ? undefined : await readFile(path);
      if (data === undefined || data.length > MAX_FILE_BYTES) return this.error(id, `read ${path}: larger than ${MAX_FILE_BYTES} bytes`);
      this.send(MessageType.FILE_DATA, id, [field.bytes(Tag.DATA, data)]);
    } catch (error) {
      this.error(id, `read ${path}: ${describe(error)}`);
    }
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** A command's output up to MAX_OUTPUT_BYTES; the rest is read and dropped so the command never blocks. */
class Capture {
  #chunks: Buffer[] = [];
  #length = 0;
  truncated = false;

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer) => {
      const keep = Math.min(chunk.length, MAX_OUTPUT_BYTES - this.#length);
      if (keep < chunk.length) this.truncated = true;
      if (keep > 0) this.#chunks.push(chunk.subarray(0, keep));
      this.#length += keep;
    });
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks, this.#length);
  }
}

/** STATS_RESULT lines; a key whose /proc source is missing is left out. */
function statsLines(): string[] {
  const lines: string[] = [];
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const meminfo = read('/proc/meminfo') ?? '';
  const total = /^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1];
  const available = /^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1];
  if (total) lines.push(`mem_total_kib=${total}`);
  if (available) lines.push(`mem_available_kib=${available}`);
  const load = read('/proc/loadavg')?.split(' ')[0];
  if (load) lines.push(`load1=${load}`);
  lines.push(`uptime_ms=${nowMs().toFixed(3)}`);
  const bootId = read('/proc/sys/kernel/random/boot_id')?.trim();
  if (bootId) lines.push(`boot_id=${bootId}`);
  try {
    lines.push(`pid_ns=${readlinkSync('/proc/self/ns/pid')}`);
  } catch {
    // no /proc
  }
  return lines;
}

/** Runs the agent with the command line `args` (see PROTOCOL.md, "Running the agent") until its channel ends. */
export async function runNodeAgent(args: string[]): Promise<void> {
  const started = nowMs();
  const stages: string[] = [];
  let port: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [arg, value] = [args[i], args[i + 1]];
    if (arg === '--port' && value !== undefined) port = value;
    else if (arg === '--stage' && value?.includes('=')) stages.push(value);
    else {
      process.stderr.write(`usage: node-agent [--port PATH|auto] [--stage name=ms]...\n(unexpected "${arg}")\n`);
      process.exit(2);
    }
    i++;
  }
  const { input, output } = await openChannel(port);
  const agent = new NodeAgent(output);
  output.on('error', () => agent.shutdown(0)); // the host went away
  agent.send(MessageType.HELLO, 0, [
    field.string(Tag.VERSION, `node ${process.version}`),
    ...[...stages, `agent_start=${started.toFixed(3)}`].map((stage) => field.string(Tag.STAGE, stage)),
    field.string(Tag.KIND, 'node'),
  ]);
  const decoder = new FrameDecoder();
  input.on('data', (chunk: Buffer) => {
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      agent.error(0, error.message);
      output.write('', () => agent.shutdown(2)); // after the ERROR is out, also on a socket
      return;
    }
    for (const frame of frames) {
      agent.handle(frame).catch((error: unknown) => agent.error(frame.id, `internal error: ${describe(error)}`));
    }
  });
  input.on('end', () => agent.shutdown(0));
  input.on('error', () => agent.shutdown(0));
}
