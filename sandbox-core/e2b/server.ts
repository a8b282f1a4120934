/**
 * An E2B-compatible server over the sandbox core, on loopback only. One port
 * serves both of E2B's APIs: a request naming a sandbox (the SDK's
 * `E2b-Sandbox-Id` header, or a `<port>-<sandboxId>.<domain>` Host) goes to
 * that sandbox's envd API after its access token is checked; any other goes
 * to the control plane after the API key is checked. Point the SDK at it with
 * E2B_API_URL and E2B_SANDBOX_URL both set to the server's URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createContextValues } from '@connectrpc/connect';
import type { Backend } from '../backends/types.ts';
import { controlPlane } from './control-plane.ts';
import { envdHttp, envdRoutes, sessionKey } from './envd.ts';
import { ApiError, sendError } from './http.ts';
import { rpcHandler } from './rpc.ts';
import { Sessions, type Session } from './sessions.ts';

/** The agent's frame carries at most 64 MiB of file data: the default upload limit. */
export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Room for a 64 MiB upload over a slow link; responses (a command's stream) are not bounded by it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/** What a client whose request could not be read is told before it is closed (Node's own answers, kept since the server listens for clientError). */
function clientErrorAnswer(code: string | undefined): string {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  return '400 Bad Request';
}

export interface E2bServerOptions {
  /** Runs sandboxes whose template names no backend. */
  backend: Backend;
  /** Backends a template may name (`Sandbox.create('bwrap')`); default only `backend`. */
  backendByName?: (name: string) => Backend | undefined;
  /** A loopback address (default 127.0.0.1); anything else is refused. */
  host?: string;
  /** 0 = any free port (default). */
  port?: number;
  /** The API key the SDK must send (X-API-KEY); default a random one, see `apiKey` of the result. */
  apiKey?: string;
  maxUploadBytes?: number;
  /**
   * A client that has not sent a whole request head by then is answered 408 and closed (default
   * DEFAULT_HEADERS_TIMEOUT_MS, as the egress proxy's); the body then has `requestTimeoutMs`
   * (default DEFAULT_REQUEST_TIMEOUT_MS) from the request's start to arrive.
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Notes for the operator (a template that names no backend, a sandbox that failed to be destroyed). */
  log?: (message: string) => void;
}

export interface E2bServer {
  readonly url: string;
  readonly apiKey: string;
  readonly sessions: Sessions;
  /** The environment an unmodified SDK program needs to use this server. */
  readonly sdkEnv: Record<string, string>;
  /** Stops listening and destroys every sandbox. */
  close(): Promise<void>;
  /** Lets the process exit while the server still listens (a server started by the e2b backend for a run). */
  unref(): void;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The sandbox a request names, by header or by Host; ApiError 400 when the two disagree. */
export function sandboxIdOf(req: IncomingMessage): string | undefined {
  const fromHeader = header(req, 'e2b-sandbox-id');
  const fromHost = /^\d+-([a-z0-9]+)\./i.exec(header(req, 'host') ?? '')?.[1];
  if (fromHeader && fromHost && fromHeader !== fromHost) throw new ApiError(400, `E2b-Sandbox-Id ${fromHeader} and Host ${header(req, 'host')} name different sandboxes`);
  return fromHeader ?? fromHost;
}

export async function startE2bServer(options: E2bServerOptions): Promise<E2bServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`rigor serve listens on loopback only: --host ${host} is not a loopback address (127.0.0.0/8, ::1 or localhost)`);
  const apiKey = options.apiKey ?? `rigor_${randomBytes(16).toString('hex')}`;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const log = options.log ?? (() => {});
  const sessions = new Sessions(log);
  const control = controlPlane({
    sessions,
    defaultBackend: options.backend,
    backendByName: options.backendByName ?? ((name) => (name === options.backend.name ? options.backend : undefined)),
    note: log,
  });
  const rpcSession = new WeakMap<IncomingMessage, Session>();
  const rpc = rpcHandler({
    routes: envdRoutes,
    readMaxBytes: maxUploadBytes,
    contextValues: (req) => createContextValues().set(sessionKey, rpcSession.get(req)),
    log,
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Not new URL(path, base): a path starting `//` would be read as another host.
    const url = URL.canParse(`http://server${req.url ?? '/'}`) ? new URL(`http://server${req.url ?? '/'}`) : undefined;
    if (!url) throw new ApiError(400, `request path ${JSON.stringify(req.url)} is not a URL path`);
    const sandboxId = sandboxIdOf(req);
    if (sandboxId === undefined) {
      if (!sameSecret(header(req, 'x-api-key'), apiKey)) throw new ApiError(401, 'Invalid API key');
      if (!(await control(req, res, url))) throw new ApiError(404, `no route ${req.method} ${url.pathname}`);
      return;
    }
    const session = sessions.get(sandboxId);
    if (!session) {
      // E2B's proxy answers 502 for a sandbox that is not running; the SDK reads it as the sandbox's end of life.
      const gone = sessions.goneReason(sandboxId);
      throw new ApiError(502, `sandbox "${sandboxId}" not found${gone ? `: ${gone}` : ''}`);
    }
    if (!sameSecret(header(req, 'x-access-token'), session.envdAccessToken)) throw new ApiError(401, `missing or wrong access token for sandbox ${sandboxId}`);
    if (/^\/(process\.Process|filesystem\.Filesystem)\//.test(url.pathname)) {
      rpcSession.set(req, session);
      if (!rpc(req, res)) throw new ApiError(404, `no route ${req.method} ${url.pathname}`);
      return;
    }
    if (!(await envdHttp(session, req, res, url, maxUploadBytes))) throw new ApiError(404, `no route ${req.method} ${url.pathname}`);
  }

  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  // Timeouts are checked every connectionsCheckingInterval: a tenth of the head's, so a slow client goes soon after its time.
  const server: Server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(headersTimeout / 10, 1000)) }, (req, res) => {
    route(req, res).catch((error: unknown) => {
      // The client went away (an upload cut short): there is no one to answer, and nothing went wrong here.
      if (req.socket.destroyed && !(error instanceof ApiError)) return;
      if (error instanceof ApiError) {
        // A body left unread (an upload over the limit) would stall the client: answer, then close.
        if (error.status === 413) res.setHeader('connection', 'close');
        sendError(res, error.status, error.message);
      } else {
        log(`internal error on ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        sendError(res, 500, error instanceof Error ? error.message : String(error));
      }
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A request head that never came whole (or could not be parsed): answer as Node would, then close.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !answering?.headersSent) socket.write(`HTTP/1.1 ${clientErrorAnswer(error.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the E2B server has no TCP address');
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    apiKey,
    sessions,
    sdkEnv: { E2B_API_URL: url, E2B_SANDBOX_URL: url, E2B_API_KEY: apiKey },
    unref() {
      server.unref();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await sessions.destroyAll('the server stopped');
    },
  };
}
