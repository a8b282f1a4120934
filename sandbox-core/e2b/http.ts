/** Small HTTP helpers of the E2B server: E2B's error shape `{code, message}`, bodies read up to a limit. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the server answers with an error in E2B's shape; `status` is the HTTP status and the body's `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { code: status, message });
}

/** The whole body, or ApiError 413 as soon as it passes `limit` bytes (the rest is not read). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, `request body of ${declared} bytes is over the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new ApiError(413, `request body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object; ApiError 400 naming what was found otherwise. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError(400, `request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError(400, `request body must be a JSON object, found ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  return parsed as Record<string, unknown>;
}

/** A field of a JSON body: absent = undefined; present with another type = ApiError 400 naming it. */
export function field<T extends 'string' | 'number' | 'object' | 'boolean'>(
  body: Record<string, unknown>,
  name: string,
  type: T,
): (T extends 'string' ? string : T extends 'number' ? number : T extends 'boolean' ? boolean : Record<string, unknown>) | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const ok = type === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === type && (type !== 'number' || Number.isFinite(value));
  if (!ok) throw new ApiError(400, `field ${name}: expected ${type === 'object' ? 'an object' : `a ${type}`}, found ${JSON.stringify(value)}`);
  return value as never;
}

/** An object of string values (metadata, envVars); ApiError 400 naming the first key whose value is not a string. */
export function stringRecord(body: Record<string, unknown>, name: string): Record<string, string> {
  const value = field(body, name, 'object') ?? {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw new ApiError(400, `field ${name}.${key}: expected a string, found ${JSON.stringify(entry)}`);
  }
  return value as Record<string, string>;
}
