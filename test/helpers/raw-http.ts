/**
 * HTTP by hand for the E2B server's load and fault tests: one connection per
 * request (agent: false, closed before the answer is returned), and Connect's envelope framing for
 * server-streaming calls (a flags byte, a 4-byte big-endian length, then the
 * message; flag 0x02 marks the end-of-stream message).
 */
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function rawRequest(port: number, request: { method: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers: request.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      // Resolved when the connection has closed too, so a count of open fds after it does not include it.
      res.on('end', () => {
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        const socket = res.socket;
        if (!socket || socket.closed) done();
        else socket.once('close', done);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** One enveloped message: flags, length, bytes (JSON when given an object). */
export function connectEnvelope(message: object | Uint8Array, flags = 0, declaredLength?: number): Buffer {
  const bytes = message instanceof Uint8Array ? Buffer.from(message) : Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(declaredLength ?? bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** The messages of a Connect stream (JSON parsed, protobuf as bytes) and its end-of-stream message (`{}` when the call succeeded, `{error}` otherwise). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function readConnectStream(body: Buffer): { messages: any[]; trailer: any } {
  const messages: unknown[] = [];
  let trailer: unknown;
  for (let at = 0; at + 5 <= body.length; ) {
    const flags = body.readUInt8(at);
    const length = body.readUInt32BE(at + 1);
    const bytes = body.subarray(at + 5, at + 5 + length);
    // The end-stream message is JSON in either codec; a protobuf message stays bytes.
    if (flags & 0x02) trailer = JSON.parse(bytes.toString('utf8'));
    else messages.push(flags === 0 && bytes[0] === 0x7b ? JSON.parse(bytes.toString('utf8')) : bytes);
    at += 5 + length;
  }
  return { messages, trailer };
}
