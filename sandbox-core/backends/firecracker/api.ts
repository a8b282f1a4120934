/**
 * Firecracker's HTTP API on the unix socket it was started with
 * (`--api-sock`): JSON bodies in, 204 (or a JSON body) for success, and a
 * 4xx/5xx carrying `{"fault_message": "..."}` when it refuses a request.
 */
import { request } from 'node:http';

export interface ApiCall {
  method: 'GET' | 'PUT' | 'PATCH';
  path: string;
  body?: unknown;
}

/** Firecracker refused a request; the message is "firecracker PUT /boot-source: 400 <fault_message>". */
export class FirecrackerApiError extends Error {
  override name = 'FirecrackerApiError';
  constructor(
    readonly call: ApiCall,
    readonly status: number,
    readonly fault: string,
  ) {
    super(`firecracker ${call.method} ${call.path}: ${status} ${fault}`);
  }
}

/** How long one request may take; Firecracker answers configuration calls in well under a millisecond. */
const API_TIMEOUT_MS = 5000;

/** The fault_message of an error body, or its first line when it is not the JSON Firecracker sends. */
export function faultOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { fault_message?: unknown };
    if (typeof parsed.fault_message === 'string') return parsed.fault_message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.split('\n')[0]!.trim() || 'no error message';
}

/** One request; resolves with the parsed JSON body (undefined for 204) or rejects with FirecrackerApiError. */
export function callApi(socketPath: string, call: ApiCall, timeoutMs = API_TIMEOUT_MS): Promise<unknown> {
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: call.method,
        path: call.path,
        // one connection per call; an explicit length, since Firecracker's server takes no chunked bodies
        agent: false,
        headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new FirecrackerApiError(call, status, faultOf(text)));
          try {
            resolve(text.trim() === '' ? undefined : JSON.parse(text));
          } catch {
            reject(new Error(`firecracker ${call.method} ${call.path}: ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new Error(`firecracker ${call.method} ${call.path} on ${socketPath}: ${error.message}`)));
    req.end(payload);
  });
}

/** Every call in order, stopping at the first refusal. */
export async function callAll(socketPath: string, calls: ApiCall[]): Promise<void> {
  for (const call of calls) await callApi(socketPath, call);
}

/** Poll `GET /` until the freshly started process serves its API, or give up after `timeoutMs`. */
export async function waitForApi(socketPath: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'not tried';
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    try {
      await callApi(socketPath, { method: 'GET', path: '/' }, Math.max(1, deadline - performance.now()));
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`firecracker API on ${socketPath} did not answer within ${timeoutMs} ms (last: ${last})`);
}
