import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { authorityOf, type Target } from './request-target.ts';

/** RFC 9110 §7.6.1: these describe one hop and must not be passed on. */
const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Copy `headers` without hop-by-hop ones, including any the Connection header names. */
function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '').toLowerCase().split(',').map((name) => name.trim());
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

/** Keep-alive agents for the two upstream schemes; `ca` replaces the system store when given. */
export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
}

export function makeUpstreamAgents(ca: string[] | undefined): UpstreamAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256, ...(ca ? { ca } : {}) }),
  };
}

/** Upstream connect + response-head deadline; a stalled upstream becomes a 504, not a hung client. */
const UPSTREAM_TIMEOUT_MS = 30_000;

/**
 * Send `req` to `target.address` over `scheme` and stream the response back
 * into `res`. The Host header is the target's own (RFC 9112 §3.2.2: a proxy
 * replaces it), whatever the client sent — else a request judged as one host
 * could reach another virtual host of the same front end. Bodies are piped
 * both ways with backpressure, never buffered whole. Upstream failures answer
 * 502 (504 on timeout) and go to `onUpstreamError`.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: Target & { address: string },
  path: string,
  scheme: 'http' | 'https',
  agents: UpstreamAgents,
  onUpstreamError: (error: Error) => void,
): void {
  const headers: http.OutgoingHttpHeaders = { ...endToEndHeaders(req.headers), host: authorityOf(target, scheme === 'https' ? 443 : 80) };
  // Transfer-Encoding is hop-by-hop, but a chunked body must stay framed: node:http writes the body of a GET,
  // HEAD, DELETE or OPTIONS unframed unless told, and the upstream would read it as a request nobody judged.
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
  const options: https.RequestOptions = {
    host: target.address,
    port: target.port,
    method: req.method,
    path,
    headers,
    agent: scheme === 'https' ? agents.https : agents.http,
    timeout: UPSTREAM_TIMEOUT_MS,
  };
  // SNI carries names only; an IP literal is sent without it.
  if (scheme === 'https' && !isIP(target.host)) options.servername = target.host;
  const upstream = (scheme === 'https' ? https : http).request(options);
  const fail = (error: Error, status: number) => {
    onUpstreamError(error);
    if (!res.headersSent) {
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${status === 504 ? 'upstream timed out' : 'upstream error'}: ${error.message}\n`);
    } else {
      res.destroy(error);
    }
  };
  upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
  upstream.on('error', (error: NodeJS.ErrnoException) => fail(error, error.code === 'ETIMEDOUT' ? 504 : 502));
  upstream.on('response', (upstreamRes) => {
    upstreamRes.setTimeout(0);
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
    upstreamRes.on('error', (error) => res.destroy(error));
    upstreamRes.pipe(res);
  });
  // A client that goes away mid-exchange frees the upstream connection too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // pipe, not pipeline: a failed upstream must not destroy the client socket before the 502 is written.
  req.pipe(upstream);
}
