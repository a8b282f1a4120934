/**
 * An https.Agent that reaches its origin through an HTTP proxy: each new
 * connection is a CONNECT to the proxy, then TLS inside the tunnel, trusting
 * only the given CAs. Kept-alive connections are reused as with any agent,
 * so one CONNECT and one handshake serve many requests.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

export interface ConnectAgentOptions {
  /** The proxy, e.g. `{ host: '127.0.0.1', port: 8080 }`; none connects straight to the origin. */
  proxy?: { host: string; port: number };
  /** PEM CAs the client trusts (the upstream's when direct or tunnelled, the interceptor's otherwise). */
  ca: string[];
  /** Connections kept per origin: the client's concurrency. */
  maxSockets: number;
}

type Callback = (error: Error | null, socket?: Duplex) => void;

export function connectAgent(options: ConnectAgentOptions): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, ca: options.ca });
  const { proxy } = options;
  if (!proxy) return agent;
  // http.Agent takes a socket from createConnection's callback when it returns nothing.
  (agent as unknown as { createConnection: (o: tls.ConnectionOptions, cb: Callback) => undefined }).createConnection = (connection, callback) => {
    const authority = `${connection.host}:${connection.port}`;
    const request = http.request({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers: { host: authority }, agent: false });
    request.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        return callback(new Error(`CONNECT ${authority} through ${proxy.host}:${proxy.port}: ${response.statusCode} ${response.statusMessage}`));
      }
      callback(null, tls.connect({ socket, host: connection.host, ca: options.ca, ALPNProtocols: ['http/1.1'] }));
    });
    request.once('error', (error) => callback(error));
    request.end();
    return undefined;
  };
  return agent;
}
