/**
 * envd's Connect services as a Node request handler: connect-node's adapter
 * (connectNodeAdapter) with one difference. connect-es calls a request whose
 * protobuf does not parse `internal` (HTTP 500 for a unary call); Connect's Go
 * implementation, which E2B's envd is, calls it `invalid_argument` (400), and a
 * malformed request is the client's fault, not the server's. The fault tests
 * (test/sandbox-core/e2b/faults.test.ts) found it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ContextValues } from '@connectrpc/connect';
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import type { UniversalServerResponse } from '@connectrpc/connect/protocol';

const UNPARSABLE = /^parse binary: /;

function parsed(json: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(json).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An error `{code, message}` of `internal` for an unparsable message made `invalid_argument`; undefined for any other. */
function asInvalidArgument(error: unknown): { code: string; message: string } | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'internal' || typeof message !== 'string' || !UNPARSABLE.test(message)) return undefined;
  return { code: 'invalid_argument', message };
}

async function* single(bytes: Uint8Array) {
  yield bytes;
}

/** A stream's end-stream message (flag 0x02, uncompressed) carrying the unparsable-message error, rewritten; every other message as it was. */
async function* rewriteEndStream(body: AsyncIterable<Uint8Array>) {
  for await (const chunk of body) {
    const end = chunk.length >= 5 && chunk[0] === 0x02 ? (parsed(chunk.subarray(5)) as { error?: unknown } | undefined) : undefined;
    const rewritten = asInvalidArgument(end?.error);
    if (rewritten === undefined) {
      yield chunk;
      continue;
    }
    const endStream = Buffer.from(JSON.stringify({ ...end, error: rewritten }));
    const head = Buffer.alloc(5);
    head.writeUInt8(0x02, 0);
    head.writeUInt32BE(endStream.length, 1);
    yield Buffer.concat([head, endStream]);
  }
}

function withInvalidArgument(response: UniversalServerResponse): UniversalServerResponse | Promise<UniversalServerResponse> {
  const body = response.body;
  if (body === undefined || response.header?.get('content-encoding') || response.header?.get('connect-content-encoding')) return response;
  if (response.header?.get('content-type')?.startsWith('application/connect+')) return { ...response, body: rewriteEndStream(body) };
  if (response.status !== 500) return response;
  return (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    const rewritten = asInvalidArgument(parsed(bytes));
    if (rewritten === undefined) return { ...response, body: single(bytes) };
    const json = Buffer.from(JSON.stringify(rewritten));
    const header = new Headers(response.header);
    header.set('content-length', String(json.length));
    return { ...response, status: 400, header, body: single(json) };
  })();
}

/**
 * A handler for the routes' paths: it answers and returns true, or returns false for a path no
 * service has (the caller answers that). `log` hears of a handler that failed other than by the
 * client going away.
 */
export function rpcHandler(options: {
  routes: (router: ConnectRouter) => void;
  readMaxBytes: number;
  contextValues: (req: IncomingMessage) => ContextValues;
  log: (message: string) => void;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const router = createConnectRouter({ readMaxBytes: options.readMaxBytes, acceptCompression: [compressionGzip, compressionBrotli] });
  options.routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (req, res) => {
    const handler = handlers.get((req.url ?? '').split('?', 1)[0]!);
    if (!handler) return false;
    const request = universalRequestFromNodeRequest(req, res, undefined, options.contextValues(req));
    handler(request)
      .then((response) => withInvalidArgument(response))
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.log(`rpc ${handler.service.typeName}/${handler.method.name} failed: ${reason instanceof Error ? reason.message : String(reason)}`);
      });
    return true;
  };
}
