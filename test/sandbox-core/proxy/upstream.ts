import http from 'node:http';
import https from 'node:https';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadOrCreateCa } from '../../../sandbox-core/proxy/ca.ts';
import { LeafCache } from '../../../sandbox-core/proxy/leaf-cache.ts';

/** What a loopback upstream saw, so tests can prove what did (not) reach it. */
export interface UpstreamLog {
  hits: number;
  paths: string[];
  /** performance.now() when the last /big response was fully handed to the kernel. */
  bigFinishedAt: number | undefined;
  /** Bytes of the last /big response handed to the socket so far. */
  bigSent: number;
}

export interface Upstreams {
  httpPort: number;
  httpsPort: number;
  /** PEM of the upstream's own CA (not the proxy's). */
  caPem: string;
  http: UpstreamLog;
  https: UpstreamLog;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** `/big?bytes=N` streams N bytes with backpressure; anything else answers a short text naming the path. */
function handler(log: UpstreamLog): http.RequestListener {
  return (req, res) => {
    log.hits += 1;
    log.paths.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://upstream');
    if (url.pathname === '/big') {
      let left = Number(url.searchParams.get('bytes'));
      log.bigSent = 0;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
      const pump = () => {
        while (left > 0) {
          const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
          left -= chunk.length;
          log.bigSent += chunk.length;
          if (left === 0) {
            res.end(chunk, () => { log.bigFinishedAt = performance.now(); });
            return;
          }
          if (!res.write(chunk)) { res.once('drain', pump); return; }
        }
      };
      pump();
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream-host': String(req.headers.host) });
      res.end(`hello from upstream ${req.method} ${req.url}`);
    });
  };
}

/** Loopback HTTP and HTTPS servers; the HTTPS one has a cert for 127.0.0.1 from a test CA of its own. */
export async function startUpstreams(): Promise<Upstreams> {
  const ca = await loadOrCreateCa(await mkdtemp(join(tmpdir(), 'rigor-upstream-ca-')));
  const leaf = await new LeafCache(ca).get('127.0.0.1');
  const httpLog: UpstreamLog = { hits: 0, paths: [], bigFinishedAt: undefined, bigSent: 0 };
  const httpsLog: UpstreamLog = { hits: 0, paths: [], bigFinishedAt: undefined, bigSent: 0 };
  const plain = http.createServer(handler(httpLog));
  const secure = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler(httpsLog));
  const listen = (server: http.Server) =>
    new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure)]);
  return {
    httpPort,
    httpsPort,
    caPem: ca.certPem,
    http: httpLog,
    https: httpsLog,
    async close() {
      for (const server of [plain, secure]) server.closeAllConnections();
      await Promise.all([plain, secure].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
