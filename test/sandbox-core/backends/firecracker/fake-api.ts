/**
 * A tiny stand-in for Firecracker's API server on a unix socket, for testing
 * the client's requests and error mapping while Firecracker itself is absent
 * from the machine. It records what it was sent and refuses a kernel path
 * that does not exist the way Firecracker does (400 with a fault_message);
 * it boots nothing and nothing is measured through it.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  body: unknown;
}

export interface FakeApi {
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export async function startFakeApi(socketPath: string, answer?: (request: RecordedRequest) => { status: number; body?: string } | undefined): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: req.headers['content-type'],
      contentLength: req.headers['content-length'],
      transferEncoding: req.headers['transfer-encoding'],
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(recorded);
    const custom = answer?.(recorded);
    if (custom) {
      res.writeHead(custom.status, { 'Content-Type': 'application/json' }).end(custom.body ?? '');
    } else if (recorded.method === 'GET' && recorded.path === '/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: 'anonymous-instance', state: 'Not started', vmm_version: 'fake', app_name: 'Firecracker' }));
    } else if (recorded.path === '/boot-source' && !existsSync((recorded.body as { kernel_image_path: string }).kernel_image_path)) {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ fault_message: 'Invalid kernel path: No such file or directory (os error 2)' }));
    } else {
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
