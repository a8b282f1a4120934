/**
 * The bypass battery's far side, all on loopback: a shared front end on
 * 127.0.0.2 serving two virtual hosts (the allowed name and a hidden one) in
 * plain HTTP and TLS, and "loopback services" on 127.0.0.1 and ::1 that the
 * policy forbids, each logging every request it serves (Host header, path,
 * API key) and every connection it accepts. A bypass is whatever one of them
 * logs that the policy said no to; the variant's id is in each request's path.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa } from '../../../sandbox-core/proxy/ca.ts';
import { LeafCache } from '../../../sandbox-core/proxy/leaf-cache.ts';

/** The front end's address: another loopback address than the forbidden 127.0.0.1. */
export const FRONT_ADDRESS = '127.0.0.2';

export interface Served {
  /** Which listener served it: the front end, or a forbidden loopback service. */
  where: 'front' | 'loopback';
  /** The Host header as the upstream read it (node keeps the first of several). */
  host: string;
  path: string;
  apiKey: string | undefined;
}

export interface BatteryUpstreams {
  front: { http: number; https: number };
  /** Ports of the forbidden services, the same on 127.0.0.1 and on ::1 (when this host has IPv6 loopback). */
  loopback: { http: number; https: number; ipv6: boolean };
  /** PEM of the upstreams' own CA, for the proxy's upstreamCa. */
  caPem: string;
  served: Served[];
  /** Connections accepted by the forbidden services (a request refused by the proxy must open none). */
  loopbackConnections(): number;
  close(): Promise<void>;
}

export async function startBatteryUpstreams(): Promise<BatteryUpstreams> {
  const dir = await mkdtemp(join(tmpdir(), 'rigor-bypass-upstream-'));
  const servers: http.Server[] = [];
  const sockets = new Set<Socket>();
  const served: Served[] = [];
  let loopbackConnections = 0;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = await loadOrCreateCa(dir);
    const leaves = new LeafCache(ca);
    const fallback = await leaves.get(FRONT_ADDRESS);
    const tlsOptions: https.ServerOptions = {
      cert: fallback.certPem,
      key: fallback.keyPem,
      SNICallback: (name, done) => void leaves.get(name).then((leaf) => done(null, leaf.secureContext), (error: Error) => done(error)),
    };
    const handler =
      (where: Served['where']): http.RequestListener =>
      (req, res) => {
        const key = req.headers['x-api-key'];
        served.push({ where, host: req.headers.host ?? '', path: req.url ?? '', apiKey: Array.isArray(key) ? key.join(', ') : key });
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`${where} ${req.headers.host ?? ''}\n`);
      };
    const listen = async (server: http.Server, host: string, port: number): Promise<number> => {
      servers.push(server);
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    };
    const countingLoopback = (server: http.Server) => {
      server.on('connection', () => (loopbackConnections += 1));
      return server;
    };
    const front = {
      http: await listen(http.createServer(handler('front')), FRONT_ADDRESS, 0),
      https: await listen(https.createServer(tlsOptions, handler('front')), FRONT_ADDRESS, 0),
    };
    const loopbackHttp = await listen(countingLoopback(http.createServer(handler('loopback'))), '127.0.0.1', 0);
    const loopbackHttps = await listen(countingLoopback(https.createServer(tlsOptions, handler('loopback'))), '127.0.0.1', 0);
    // The same ports on ::1, so an IPv6 spelling of loopback that slipped through would find a listener there too.
    let ipv6 = true;
    try {
      await listen(countingLoopback(http.createServer(handler('loopback'))), '::1', loopbackHttp);
      await listen(countingLoopback(https.createServer(tlsOptions, handler('loopback'))), '::1', loopbackHttps);
    } catch {
      ipv6 = false;
    }
    return {
      front,
      loopback: { http: loopbackHttp, https: loopbackHttps, ipv6 },
      caPem: ca.certPem,
      served,
      loopbackConnections: () => loopbackConnections,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
