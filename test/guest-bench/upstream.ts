/**
 * A loopback HTTP origin for guest-bench tests that counts what reached it:
 * `/small` answers 16 bytes, `/bytes?n=N` streams N bytes with a
 * Content-Length, `/chunked` answers with chunked framing, `/close` answers
 * and closes the connection; anything else is 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamBytes } from '../../runner/loopback/upstream.ts';

export interface CountingUpstream {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Requests seen for a path (query ignored). */
  hits(path: string): number;
  /** TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

export async function startCountingUpstream(): Promise<CountingUpstream> {
  const hits = new Map<string, number>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname === '/small') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 16 });
      res.end('0123456789abcdef');
    } else if (url.pathname === '/bytes') {
      const n = Number(url.searchParams.get('n'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      streamBytes(res, n);
    } else if (url.pathname === '/chunked') {
      // No Content-Length and two writes: Node frames the body as chunks.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      setImmediate(() => res.end('second chunk\n'));
    } else if (url.pathname === '/close') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3, connection: 'close' });
      res.end('bye');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('not found\n');
    }
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    hits: (path) => hits.get(path) ?? 0,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
