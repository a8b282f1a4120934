import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { promises as dns } from 'node:dns';
import net, { isIP, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Ca } from './ca.ts';
import { allowAll, type Decide, type Decision, type HttpRequestEvent, type ResolveName, type Resolved } from './decide.ts';
import { forward, makeUpstreamAgents } from './forward.ts';
import { LeafCache } from './leaf-cache.ts';
import { BadTargetError, parseAbsoluteHttpTarget, parseConnectAuthority, type Target } from './request-target.ts';

/** Options of {@link startProxy}; defaults are written next to each field. */
export interface ProxyOptions {
  /** Port to listen on. Default 0 (any free port). */
  port?: number;
  /** Address to listen on. Default '127.0.0.1'; the proxy is never meant to face a network. */
  host?: string;
  /** Also listen on this unix socket path (made by the proxy, removed by close()): what a sandbox without a network gets bound in. */
  socketPath?: string;
  /** 'tunnel': CONNECT passes raw bytes. 'intercept': CONNECT is terminated with a leaf for the host and every inner request is seen. */
  mode: 'tunnel' | 'intercept';
  /** The interception CA; required in 'intercept' mode. */
  ca?: Ca;
  /** Leaf cache to sign with; default a new one over `ca` (pass one to share leaves between proxies). */
  leaves?: LeafCache;
  /** The policy hook every request passes before it goes upstream. Default: allow everything. */
  decide?: Decide;
  /**
   * How names become addresses, before `decide` sees the request (which then names both, and the proxy connects
   * to exactly that address). startEgress passes the sandbox resolver's, judged and audited as `dns.query`.
   * Default: the host's own resolver — only for a proxy used without an egress path (the proxy rig).
   */
  resolve?: ResolveName;
  /** PEM CA certificates trusted for upstream TLS instead of the system store. Default: the system store. */
  upstreamCa?: string[];
  /** Largest request head accepted, bytes; larger gets 431. Default 16384. */
  maxHeaderSize?: number;
  /** Time a client has to send a complete request head, ms; a slow client then gets 408. Default 10000. */
  headersTimeoutMs?: number;
  /** Time a client has to send a whole request (head and body), ms. Default 300000. */
  requestTimeoutMs?: number;
  /** Idle time before a kept-alive client connection is closed, ms. Default 5000. */
  keepAliveTimeoutMs?: number;
}

/** Counters since start; each request is counted once in exactly one of allowed/logged/blocked. */
export interface ProxyStats {
  /** Requests passed to `decide` (plain, intercepted, and CONNECTs in tunnel mode). */
  decided: number;
  allowed: number;
  logged: number;
  blocked: number;
  /** Malformed requests answered 400/408/431 (or dropped) before reaching `decide`. */
  rejected: number;
  /** Requests whose name the resolver refused (403) or did not know (502), never given to `decide`. */
  unresolved: number;
  /** Upstream connection or protocol failures (answered 502/504). */
  upstreamErrors: number;
  /** CONNECTs established as raw tunnels. */
  tunnels: number;
  /** CONNECTs terminated with a leaf certificate. */
  intercepted: number;
  /** Leaf certificates signed by this proxy's cache. */
  leavesMade: number;
}

/** A running proxy. */
export interface RunningProxy {
  /** `http://127.0.0.1:<port>`, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  port: number;
  /** Stop listening and end every connection, tunnels included. */
  close(): Promise<void>;
  stats(): ProxyStats;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/**
 * Start an HTTP/1.1 forward proxy: absolute-form `GET http://…` requests are
 * forwarded with keep-alive; CONNECT is tunnelled or intercepted per `mode`.
 * Every request is given to `decide` first; a block answers 403 naming the
 * rule and the upstream never sees it. One connection's error never reaches
 * another: each socket's errors end that socket only.
 */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  if (options.mode === 'intercept' && !options.ca && !options.leaves) {
    throw new Error("startProxy: mode 'intercept' needs options.ca (from loadOrCreateCa) to sign leaf certificates");
  }
  const leaves = options.leaves ?? (options.ca ? new LeafCache(options.ca) : undefined);
  const decide = options.decide ?? allowAll;
  const resolveName = options.resolve ?? systemResolve;
  const agents = makeUpstreamAgents(options.upstreamCa);
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: options.maxHeaderSize ?? 16_384,
    headersTimeout,
    requestTimeout: options.requestTimeoutMs ?? 300_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    // Node checks the two timeouts above only this often (default 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
  const stats: Omit<ProxyStats, 'leavesMade'> = {
    decided: 0, allowed: 0, logged: 0, blocked: 0, rejected: 0, unresolved: 0, upstreamErrors: 0, tunnels: 0, intercepted: 0,
  };
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const targets = new WeakMap<Socket, Target>();
  const onUpstreamError = () => {
    stats.upstreamErrors += 1;
  };

  /**
   * The address a target's host stands for (itself when it is one), or undefined after answering: 403 when the
   * resolver's policy refused the name, 502 when it has no address, 503 when the resolver itself failed.
   */
  async function addressOf(target: Target, refuse: (status: number, body: string, ruleId: string | null) => void): Promise<string | undefined> {
    if (isIP(target.host)) return target.host;
    let resolved: Resolved;
    try {
      resolved = await resolveName(target.host);
    } catch (error) {
      stats.rejected += 1;
      refuse(503, `resolver error: ${(error as Error).message}\n`, null);
      return undefined;
    }
    if ('addresses' in resolved && resolved.addresses.length > 0) return resolved.addresses[0];
    stats.unresolved += 1;
    if ('refused' in resolved && resolved.refused === 'blocked') refuse(403, `name ${target.host} blocked by rule ${resolved.ruleId ?? '(default)'}\n`, resolved.ruleId);
    else refuse(502, `cannot resolve ${target.host}: ${'reason' in resolved ? resolved.reason : 'no address'}\n`, null);
    return undefined;
  }

  /** Decide, count, and answer 403 (or 503 if the hook itself fails) when the request must not go on. */
  async function admitted(event: HttpRequestEvent, refuse: (status: number, body: string, ruleId: string | null) => void): Promise<boolean> {
    let decision: Decision;
    try {
      decision = await decide(event);
    } catch (error) {
      // Fail closed: a broken policy must not turn into an open proxy.
      stats.rejected += 1;
      refuse(503, `policy error: ${(error as Error).message}\n`, null);
      return false;
    }
    stats.decided += 1;
    if (decision.decision === 'block') {
      stats.blocked += 1;
      refuse(403, `blocked by rule ${decision.ruleId ?? '(default)'}\n`, decision.ruleId);
      return false;
    }
    stats[decision.decision === 'log' ? 'logged' : 'allowed'] += 1;
    return true;
  }

  function answer(res: ServerResponse, status: number, body: string, ruleId: string | null = null): void {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
    if (ruleId !== null) headers['x-rigor-rule'] = headerSafe(ruleId);
    res.writeHead(status, headers);
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https', resolve: () => Target & { path: string }): Promise<void> {
    let target: Target & { path: string };
    try {
      target = resolve();
    } catch (error) {
      if (!(error instanceof BadTargetError)) throw error;
      stats.rejected += 1;
      req.resume();
      res.shouldKeepAlive = false;
      answer(res, 400, `${error.message}\n`);
      return;
    }
    const refuse = (status: number, body: string, ruleId: string | null) => {
      req.resume();
      answer(res, status, body, ruleId);
    };
    const address = await addressOf(target, refuse);
    if (address === undefined) return;
    const event = { host: target.host, address, port: target.port, method: req.method ?? 'GET', path: target.path, headers: req.headers };
    if (await admitted(event, refuse)) forward(req, res, { ...target, address }, target.path, scheme, agents, onUpstreamError);
  }

  const onRequestError = (res: ServerResponse) => (error: unknown) => {
    stats.rejected += 1;
    if (!res.headersSent) answer(res, 500, `proxy error: ${(error as Error).message}\n`);
    else res.destroy();
  };

  const server = http.createServer(serverOptions, (req, res) => {
    handle(req, res, 'http', () => parseAbsoluteHttpTarget(req.url ?? '')).catch(onRequestError(res));
  });
  // Requests decrypted from intercepted CONNECTs; this server never listens, sockets are handed to it.
  const inner = http.createServer(serverOptions, (req, res) => {
    handle(req, res, 'https', () => {
      const target = targets.get(req.socket);
      const path = req.url ?? '';
      if (!target) throw new Error('intercepted request without a CONNECT target');
      if (!path.startsWith('/')) throw new BadTargetError(`bad request target ${JSON.stringify(path.slice(0, 80))} inside CONNECT: expected /path`);
      return { ...target, path };
    }).catch(onRequestError(res));
  });

  // Node arms the headersTimeout/requestTimeout checks on 'listening'; this server is handed its sockets instead of listening.
  inner.emit('listening');

  for (const s of [server, inner]) {
    s.on('connection', track);
    s.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      stats.rejected += 1;
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  }

  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    connect(req, socket as Socket, head).catch(() => socket.destroy());
  });

  async function connect(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    let target: Target;
    try {
      target = parseConnectAuthority(req.url ?? '');
    } catch (error) {
      if (!(error instanceof BadTargetError)) throw error;
      stats.rejected += 1;
      refuseRaw(socket, 400, `${error.message}\n`, null);
      return;
    }
    if (options.mode === 'tunnel') {
      const refuse = (status: number, body: string, ruleId: string | null) => refuseRaw(socket, status, body, ruleId);
      const address = await addressOf(target, refuse);
      if (address === undefined) return;
      const event = { host: target.host, address, port: target.port, method: 'CONNECT', path: '', headers: req.headers };
      if (!(await admitted(event, refuse))) return;
      tunnel(socket, { ...target, address }, head);
      return;
    }
    // Sign (or fetch) the leaf before answering 200, so the ClientHello cannot arrive before we can read it.
    const leaf = await leaves!.get(target.host);
    if (socket.destroyed) return;
    socket.write(ESTABLISHED);
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket, { isServer: true, secureContext: leaf.secureContext, ALPNProtocols: ['http/1.1'] });
    targets.set(tls, target);
    stats.intercepted += 1;
    inner.emit('connection', tls);
  }

  function tunnel(socket: Socket, target: Target & { address: string }, head: Buffer): void {
    const upstream = net.connect({ host: target.address, port: target.port });
    track(upstream);
    upstream.setTimeout(30_000, () => upstream.destroy());
    let established = false;
    upstream.once('connect', () => {
      established = true;
      upstream.setTimeout(0);
      stats.tunnels += 1;
      socket.write(ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', () => {
      if (!established) {
        onUpstreamError();
        refuseRaw(socket, 502, `cannot reach ${target.host}:${target.port}\n`, null);
      }
    });
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An http.Server listens once; the unix socket hands its connections to the same server.
  const unixListener = options.socketPath === undefined ? undefined : net.createServer((socket) => server.emit('connection', socket));
  if (unixListener) {
    try {
      await new Promise<void>((resolve, reject) => {
        unixListener.once('error', reject);
        // Sandboxes run as unprivileged uids of their own: any of them may connect (the TCP port is as open).
        unixListener.listen({ path: options.socketPath, readableAll: true, writableAll: true }, () => {
          unixListener.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new Error(`startProxy: cannot listen on socketPath ${options.socketPath}: ${(error as Error).message}`, { cause: error });
    }
  }
  const address = server.address() as net.AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    stats: () => ({ ...stats, leavesMade: leaves?.made ?? 0 }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const unixClosed = new Promise<void>((resolve) => (unixListener ? unixListener.close(() => resolve()) : resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      inner.closeAllConnections();
      inner.close(() => {}); // stops the timeout checks; reports "not running", which it never was
      agents.http.destroy();
      agents.https.destroy();
      await Promise.all([closed, unixClosed]);
    },
  };
}

/** The host's own resolver (getaddrinfo), for a proxy started without one: every address, in the system's order. */
async function systemResolve(name: string): Promise<Resolved> {
  try {
    const found = await dns.lookup(name, { all: true, verbatim: true });
    return { addresses: found.map((entry) => entry.address) };
  } catch (error) {
    return { refused: 'unknown', ruleId: null, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
}

/** Answer on a raw socket (a CONNECT that will not be established) and end it. */
function refuseRaw(socket: Duplex, status: number, body: string, ruleId: string | null): void {
  const rule = ruleId === null ? '' : `x-rigor-rule: ${headerSafe(ruleId)}\r\n`;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${rule}connection: close\r\n\r\n${body}`);
}

/** Rule ids come from user YAML; keep them from breaking (or injecting into) a response head. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}
