/**
 * The guest agent on Node: the protocol of PROTOCOL.md as native/agent.c
 * speaks it (HELLO kind "node"), so the exec rig can measure what running the
 * agent on Node costs. Started by node-agent-main.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, open, readFile, stat, writeFile } from 'node:fs/promises';
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
  MAX_RESEED_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  Tag,
  type Field,
  type Frame,
} from './protocol.ts';
import { DEFAULT_PATH } from '../default-path.ts';

/** After a command exits, how long to wait for its pipes to close; a process that left its group may hold them for ever. */
const PIPE_GRACE_MS = 100;

/** The uid and gid of --exec-user. */
interface ExecUser {
  uid: number;
  gid: number;
}

/**
 * A file request under --exec-user, run by a Node child started as that user
 * (argv: op, path, mode or ""): the kernel checks its permissions exactly as
 * for a command (ACLs, read-only mounts, no root capabilities), which no
 * check done as root can promise. The cost is one Node start per request
 * (about 50 ms). It reports a failure as {"errno":N} on stderr, exit 1; a
 * file too large to read as exit 3.
 */
const FILE_HELPER = `
const fs = require('node:fs');
const [op, path, mode] = process.argv.slice(1);
try {
  if (op === 'write') {
    const data = fs.readFileSync(0);
    const fd = fs.openSync(path, 'w', mode === '' ? 0o644 : Number(mode));
    try { fs.writeFileSync(fd, data); } finally { fs.closeSync(fd); }
    if (mode !== '') fs.chmodSync(path, Number(mode));
  } else {
    // /proc files say size 0, so the size is checked again after reading.
    if (fs.statSync(path).size > ${MAX_FILE_BYTES}) process.exit(3);
    const data = fs.readFileSync(path);
    if (data.length > ${MAX_FILE_BYTES}) process.exit(3);
    for (let at = 0; at < data.length; ) at += fs.writeSync(1, data, at);
  }
} catch (error) {
  fs.writeSync(2, JSON.stringify({ errno: error.errno, message: String(error.message) }));
  process.exit(1);
}
`;

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

  constructor(
    private readonly output: NodeJS.WritableStream,
    private readonly user: ExecUser | undefined,
  ) {}

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
      case MessageType.RESEED:
        return this.reseed(frame.id, fields);
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
    // libuv drops supplementary groups, then gid and uid, in the child (after entering cwd, as root).
    const child = spawn(command, args, { cwd, env, stdio: 'pipe', detached: true, ...this.user });
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
    // Streaming: each read goes out at once in an OUTPUT frame, and EXEC_RESULT has none.
    const stream = fields.int(Tag.STREAM) === 1;
    if (stream) {
      child.stdout.on('data', (chunk: Buffer) => this.send(MessageType.OUTPUT, id, [field.bytes(Tag.STDOUT, chunk)]));
      child.stderr.on('data', (chunk: Buffer) => this.send(MessageType.OUTPUT, id, [field.bytes(Tag.STDERR, chunk)]));
    }
    const stdout = new Capture(child.stdout, stream ? 0 : MAX_OUTPUT_BYTES);
    const stderr = new Capture(child.stderr, stream ? 0 : MAX_OUTPUT_BYTES);
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
    if (!stream && (stdout.truncated || stderr.truncated)) reply.push(field.int(Tag.TRUNCATED, 1));
    this.send(MessageType.EXEC_RESULT, id, reply);
  }

  /**
   * RESEED (at most MAX_RESEED_BYTES of entropy, as the native agent): Node has no ioctl, so the bytes are written to /dev/urandom (mixed in, not credited: the
   * CRNG takes them at its next reseed, not at once as the native agent's RNDRESEEDCRNG) and the clock is set by `date`.
   */
  async reseed(id: number, fields: Fields): Promise<void> {
    const entropy = fields.bytes(Tag.ENTROPY);
    const epochUs = fields.int(Tag.EPOCH_US);
    if (entropy && entropy.length > MAX_RESEED_BYTES) return this.error(id, `reseed: ${entropy.length} bytes of entropy, at most ${MAX_RESEED_BYTES}`);
    // The clock and the entropy pool are the machine's: only a guest's init may set them (on the host the agent would set the host's).
    if (process.pid !== 1) return this.error(id, 'reseed: refused: only the agent that is a guest\'s init (pid 1) takes entropy and the time');
    try {
      if (entropy && entropy.length > 0) await writeFile('/dev/urandom', entropy);
    } catch (error) {
      return this.error(id, `reseed /dev/urandom: ${describe(error)}`);
    }
    if (epochUs !== undefined) {
      const seconds = `@${Math.floor(epochUs / 1e6)}.${String(epochUs % 1e6).padStart(6, '0')}`;
      const date = spawnSync('date', ['-u', '-s', seconds], { encoding: 'utf8' });
      if (date.status !== 0) return this.error(id, `reseed clock: date -s ${seconds}: ${(date.stderr || date.error?.message || `exit ${date.status}`).trim()}`);
    }
    this.send(MessageType.OK, id);
  }

  async writeFile(id: number, fields: Fields): Promise<void> {
    const path = fields.string(Tag.PATH);
    if (path === undefined) return this.error(id, 'write: no path');
    const mode = fields.int(Tag.MODE);
    if (this.user) return this.fileAsUser(id, 'write', path, mode, fields.bytes(Tag.DATA) ?? Buffer.alloc(0));
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
    if (this.user) return this.fileAsUser(id, 'read', path);
    try {
      // /proc files say size 0, so the size is checked again after reading.
      const data = (await stat(path)).size > MAX_FILE_BYTES ? undefined : await readFile(path);
      if (data === undefined || data.length > MAX_FILE_BYTES) return this.error(id, `read ${path}: larger than ${MAX_FILE_BYTES} bytes`);
      this.send(MessageType.FILE_DATA, id, [field.bytes(Tag.DATA, data)]);
    } catch (error) {
      this.error(id, `read ${path}: ${describe(error)}`);
    }
  }

  /** WRITE_FILE or READ_FILE done by FILE_HELPER as the --exec-user user; answers OK, FILE_DATA or ERROR. */
  async fileAsUser(id: number, op: 'write' | 'read', path: string, mode?: number, data?: Buffer): Promise<void> {
    const user = this.user as ExecUser;
    // No env: nothing of the agent's (NODE_OPTIONS) reaches the helper; the cwd is the agent's, as for the C agent.
    const helper = spawn(process.execPath, ['-e', FILE_HELPER, '--', op, path, mode === undefined ? '' : String(mode)], { env: {}, stdio: 'pipe', ...user });
    const out = new Capture(helper.stdout, MAX_FILE_BYTES);
    const err = new Capture(helper.stderr, 4096);
    helper.stdin.on('error', () => undefined); // the helper failed before reading it
    helper.stdin.end(data);
    const ended = await new Promise<Error | number | string>((resolve) =>
      helper.once('error', resolve).once('close', (code: number | null, signal: string | null) => resolve(code ?? signal ?? 'unknown')),
    );
    if (ended instanceof Error) return this.error(id, `${op} ${path}: file helper as ${user.uid}:${user.gid}: ${describe(ended)}`);
    if (ended === 3) return this.error(id, `read ${path}: larger than ${MAX_FILE_BYTES} bytes`);
    const said = err.bytes().toString();
    const failure = ended === 1 && said.startsWith('{"errno":') ? (JSON.parse(said) as { errno?: number; message: string }) : undefined;
    if (failure) return this.error(id, `${op} ${path}: ${describe(failure)}`);
    if (ended !== 0) return this.error(id, `${op} ${path}: file helper ended with ${ended}, expected 0: ${said.trim()}`);
    if (op === 'write') this.send(MessageType.OK, id);
    else this.send(MessageType.FILE_DATA, id, [field.bytes(Tag.DATA, out.bytes())]);
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** A command's output up to `limit` bytes; the rest is read and dropped so the command never blocks. */
class Capture {
  #chunks: Buffer[] = [];
  #length = 0;
  truncated = false;

  constructor(stream: NodeJS.ReadableStream, limit = MAX_OUTPUT_BYTES) {
    stream.on('data', (chunk: Buffer) => {
      const keep = Math.min(chunk.length, limit - this.#length);
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

/**
 * Closes every fd above 2 inherited without close-on-exec (a harness's, passed
 * down): libuv hands those to every command, and Node cannot mark them
 * close-on-exec as the C agent does. The agent never uses them.
 */
function closeInheritedFds(): void {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return; // no /proc: nothing to find them by
  }
  for (const fd of fds.map(Number).filter((fd) => fd > 2)) {
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (Number.parseInt(flags, 8) & 0o2000000) === 0) closeSync(fd);
    } catch {
      // gone already: readdir's own fd
    }
  }
}

/** Runs the agent with the command line `args` (see PROTOCOL.md, "Running the agent") until its channel ends. */
export async function runNodeAgent(args: string[]): Promise<void> {
  const started = nowMs();
  const stages: string[] = [];
  let port: string | undefined;
  let user: ExecUser | undefined;
  for (let i = 0; i < args.length; i++) {
    const [arg, value] = [args[i], args[i + 1]];
    const ids = arg === '--exec-user' ? /^(\d+):(\d+)$/.exec(value ?? '') : null;
    if (arg === '--port' && value !== undefined) port = value;
    else if (arg === '--stage' && value?.includes('=')) stages.push(value);
    else if (ids) user = { uid: Number(ids[1]), gid: Number(ids[2]) };
    else {
      process.stderr.write(`usage: node-agent [--port PATH|auto] [--stage name=ms]... [--exec-user UID:GID]\n(unexpected "${arg}")\n`);
      process.exit(2);
    }
    i++;
  }
  closeInheritedFds();
  if (user && process.getuid?.() !== 0) {
    process.stderr.write(`node-agent: --exec-user needs root (running as uid ${process.getuid?.()})\n`);
    process.exit(1);
  }
  const { input, output } = await openChannel(port);
  const agent = new NodeAgent(output, user);
  output.on('error', () => agent.shutdown(0)); // the host went away
  agent.send(MessageType.HELLO, 0, [
    field.string(Tag.VERSION, `node ${process.version}`),
    ...[...stages, `agent_start=${started.toFixed(3)}`].map((stage) => field.string(Tag.STAGE, stage)),
    field.string(Tag.KIND, 'node'),
  ]);
  const decoder = new FrameDecoder();
  input.on('data', (chunk: Buffer) => {
    const handle = (frames: Frame[]) => {
      for (const frame of frames) {
        // A field of the wrong size (an integer not 8 bytes) is the request's fault, said as the native agent says it.
        agent.handle(frame).catch((error: unknown) => agent.error(frame.id, error instanceof FieldError ? error.message : `internal error: ${describe(error)}`));
      }
    };
    try {
      handle(decoder.push(chunk));
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // The frames before the bad length are handled, as the native agent reads them one by one; nothing after it.
      handle(error.frames);
      agent.error(0, error.message);
      output.write('', () => agent.shutdown(2)); // after the ERROR is out, also on a socket
    }
  });
  input.on('end', () => agent.shutdown(0));
  input.on('error', () => agent.shutdown(0));
}
