/**
 * A loopback upstream for the egress rigs: HTTPS with a certificate for
 * 127.0.0.1 from a CA of its own (so every path under test must be told to
 * trust it), or plain HTTP for clients inside sandboxes that speak no TLS;
 * `/big?bytes=N` streaming N bytes with backpressure, anything else a short text.
 */
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadOrCreateCa } from '../../sandbox-core/proxy/ca.ts';
import { LeafCache } from '../../sandbox-core/proxy/leaf-cache.ts';

export interface LoopbackUpstream {
  port: number;
  /** PEM of the upstream's CA. */
  caPem: string;
  /** Where that PEM is on disk (for tools that take a file). */
  caFile: string;
  /** Requests answered so far. */
  hits(): number;
  /** TCP connections accepted so far (a request refused by a proxy must not open one). */
  connections(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Writes `bytes` bytes of filler with backpressure (never the whole body in memory), then ends the response. */
export function streamBytes(res: http.ServerResponse, bytes: number): void {
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      if (left === 0) return void res.end(chunk);
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

export async function startLoopbackUpstream(options: { tls?: boolean } = {}): Promise<LoopbackUpstream> {
  const dir = await mkdtemp(join(tmpdir(), 'rigor-proxy-upstream-'));
  let hits = 0;
  let connections = 0;
  try {
    const ca = await loadOrCreateCa(dir);
    const leaf = await new LeafCache(ca).get('127.0.0.1');
    const caFile = join(dir, 'upstream-ca.pem');
    await writeFile(caFile, ca.certPem);
    const handler: http.RequestListener = (req, res) => {
      hits += 1;
      const url = new URL(req.url ?? '/', 'https://upstream');
      req.resume();
      if (url.pathname !== '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        return;
      }
      const bytes = Number(url.searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
      streamBytes(res, bytes);
    };
    const server =
      options.tls === false
        ? http.createServer({ keepAliveTimeout: 60_000 }, handler)
        : https.createServer({ cert: leaf.certPem, key: leaf.keyPem, keepAliveTimeout: 60_000 }, handler);
    server.on('connection', () => (connections += 1));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
    return {
      port,
      caPem: ca.certPem,
      caFile,
      hits: () => hits,
      connections: () => connections,
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
