/**
 * The host end of a Firecracker vsock connection: connect to the vsock
 * device's unix socket, ask for a guest port with "CONNECT <port>\n" and read
 * "OK <host port>\n"; after that line the stream is the guest program's.
 * While nothing in the guest listens on the port (the VM still boots),
 * Firecracker closes the connection instead, so connecting is retried.
 */
import { createConnection, type Socket } from 'node:net';
import { AgentClient } from '../../agent/client.ts';

/** Pause between attempts while the guest boots. */
const RETRY_MS = 10;
/** An acknowledgement line is "OK " and a u32: anything longer is not one. */
const MAX_ACK_BYTES = 32;

export interface VsockConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The connected stream, paused, with any bytes that followed the OK line put
 * back: attach the reader, then resume() it, so nothing the guest sent early is lost.
 */
export async function connectVsock(udsPath: string, port: number, options: VsockConnectOptions): Promise<Socket> {
  const deadline = performance.now() + options.timeoutMs;
  let last = 'not tried';
  while (performance.now() < deadline) {
    options.signal?.throwIfAborted();
    const outcome = await attempt(udsPath, port);
    if (typeof outcome !== 'string') return outcome;
    last = outcome;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  throw new Error(`vsock port ${port} via ${udsPath}: no guest listener within ${options.timeoutMs} ms (last: ${last})`);
}

/** One CONNECT; resolves with the stream, or with why this attempt did not get one (worth retrying), or rejects on a reply that is not the protocol. */
function attempt(udsPath: string, port: number): Promise<Socket | string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(udsPath);
    let received = Buffer.alloc(0);
    const stop = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onError = (error: Error): void => {
      stop();
      socket.destroy();
      resolve(error.message);
    };
    const onClose = (): void => {
      stop();
      resolve('closed before OK (no listener in the guest yet)');
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(0x0a);
      if (end < 0 && received.length <= MAX_ACK_BYTES) return;
      stop();
      const line = received.subarray(0, end < 0 ? received.length : end).toString('latin1');
      if (end < 0 || !/^OK \d+$/.test(line)) {
        socket.destroy();
        reject(new Error(`vsock port ${port} via ${udsPath}: expected "OK <port>" after CONNECT, found ${JSON.stringify(line)}`));
        return;
      }
      socket.pause();
      const rest = received.subarray(end + 1);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(`CONNECT ${port}\n`));
  });
}

/** The agent's client over a vsock port, once the guest agent listens there and has said HELLO. */
export async function agentOverVsock(udsPath: string, port: number, options: VsockConnectOptions): Promise<AgentClient> {
  const started = performance.now();
  const socket = await connectVsock(udsPath, port, options);
  const remainingMs = Math.max(1, options.timeoutMs - (performance.now() - started));
  const connecting = AgentClient.connect(socket, socket, { helloTimeoutMs: remainingMs, signal: options.signal });
  socket.resume();
  try {
    return await connecting;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
