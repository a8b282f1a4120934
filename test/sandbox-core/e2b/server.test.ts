/**
 * The E2B server's edges on the process backend: loopback only, tokens,
 * routing by sandbox id, E2B's error shape for bad input (unknown sandbox,
 * bad token, malformed request, oversized upload), and generated garbage that
 * never gets a 500 or takes the server down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AuthenticationError, Sandbox } from 'e2b';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { startE2bServer, type E2bServer } from '../../../sandbox-core/e2b/index.ts';
import { sandboxIdOf } from '../../../sandbox-core/e2b/server.ts';
import type { IncomingMessage } from 'node:http';

let server: E2bServer;
let sandboxId: string;
let token: string;

async function api(path: string, init: RequestInit = {}, key: string | null = server.apiKey) {
  const res = await fetch(`${server.url}${path}`, { ...init, headers: { ...(key ? { 'x-api-key': key } : {}), ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { code?: number; message?: string }) : undefined };
}

async function envd(path: string, init: RequestInit & { id?: string; token?: string | null } = {}) {
  const headers: Record<string, string> = { 'e2b-sandbox-id': init.id ?? sandboxId, ...(init.headers as Record<string, string>) };
  const given = init.token === undefined ? token : init.token;
  if (given) headers['x-access-token'] = given;
  const res = await fetch(`${server.url}${path}`, { ...init, headers });
  const text = await res.text();
  let body: { code?: number; message?: string } | undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

beforeAll(async () => {
  server = await startE2bServer({ backend: processBackend, maxUploadBytes: 1024 });
  const created = await api('/v2/sandboxes', { method: 'POST', body: JSON.stringify({ templateID: 'base', timeout: 120 }), headers: { 'content-type': 'application/json' } });
  expect(created.status).toBe(201);
  ({ sandboxID: sandboxId, envdAccessToken: token } = created.body as unknown as { sandboxID: string; envdAccessToken: string });
});

afterAll(async () => {
  await server?.close();
});

describe('listening', () => {
  it('refuses an address that is not loopback', async () => {
    await expect(startE2bServer({ backend: processBackend, host: '0.0.0.0' })).rejects.toThrow(/loopback only: --host 0.0.0.0/);
  });

  it('routes by the E2b-Sandbox-Id header or a <port>-<id>.<domain> Host, refusing the two naming different sandboxes', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(sandboxIdOf(req({ 'e2b-sandbox-id': 'rabc' }))).toBe('rabc');
    expect(sandboxIdOf(req({ host: '49983-rabc.e2b.local' }))).toBe('rabc');
    expect(sandboxIdOf(req({ host: '127.0.0.1:3000' }))).toBeUndefined();
    expect(() => sandboxIdOf(req({ 'e2b-sandbox-id': 'rabc', host: '49983-rxyz.e2b.local' }))).toThrow(/name different sandboxes/);
  });
});

describe('tokens', () => {
  it('answers a wrong or missing API key 401 in E2B shape, which the SDK raises as AuthenticationError', async () => {
    expect(await api('/v2/sandboxes', {}, 'wrong')).toEqual({ status: 401, body: { code: 401, message: 'Invalid API key' } });
    expect((await api('/v2/sandboxes', {}, null)).status).toBe(401);
    // apiUrl is a connection option the SDK reads at run time but leaves out of list()'s type.
    const refused = await Sandbox.list({ apiUrl: server.url, apiKey: 'wrong' } as Parameters<typeof Sandbox.list>[0]).nextItems().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthenticationError);
  });

  it("checks the envd token of the sandbox named, so one sandbox's token does not open another", async () => {
    expect((await envd('/health')).status).toBe(204);
    expect((await envd('/health', { token: null })).status).toBe(401);
    expect((await envd('/health', { token: 'x' })).status).toBe(401);
    const other = await api('/v2/sandboxes', { method: 'POST', body: '{}' });
    const otherId = (other.body as unknown as { sandboxID: string }).sandboxID;
    const crossed = await envd('/files?path=x', { id: otherId });
    expect(crossed.status).toBe(401);
    expect(crossed.body?.message).toContain(otherId);
    expect((await api(`/sandboxes/${otherId}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('bad input', () => {
  it('answers malformed bodies 400 naming what was wrong', async () => {
    expect(await api('/v2/sandboxes', { method: 'POST', body: '{"templateID":' })).toMatchObject({ status: 400, body: { code: 400, message: expect.stringMatching(/^request body is not JSON/) } });
    expect(await api('/v2/sandboxes', { method: 'POST', body: '[1]' })).toMatchObject({ status: 400, body: { message: 'request body must be a JSON object, found an array' } });
    expect(await api('/v2/sandboxes', { method: 'POST', body: '{"timeout":"soon"}' })).toMatchObject({ status: 400, body: { message: 'field timeout: expected a number, found "soon"' } });
    expect(await api('/v2/sandboxes', { method: 'POST', body: '{"envVars":{"A":1}}' })).toMatchObject({ status: 400, body: { message: 'field envVars.A: expected a string, found 1' } });
    expect(await api(`/sandboxes/${sandboxId}/timeout`, { method: 'POST', body: '{"timeout":-1}' })).toMatchObject({ status: 400, body: { message: 'field timeout: expected whole seconds >= 0, found -1' } });
  });

  it('answers an unknown sandbox 404 (API) and 502 (envd), and a killed one says so', async () => {
    expect(await api('/sandboxes/rnosuch')).toEqual({ status: 404, body: { code: 404, message: 'sandbox "rnosuch" not found' } });
    expect((await envd('/health', { id: 'rnosuch' })).status).toBe(502);
    const doomed = await api('/v2/sandboxes', { method: 'POST', body: '{}' });
    const id = (doomed.body as unknown as { sandboxID: string }).sandboxID;
    expect((await api(`/sandboxes/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await api(`/sandboxes/${id}`)).toEqual({ status: 404, body: { code: 404, message: `sandbox "${id}" not found: killed` } });
    expect((await api(`/sandboxes/${id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers an upload over the limit 413 and keeps serving', async () => {
    const big = await envd('/files?path=big', { method: 'POST', body: new Uint8Array(4096), headers: { 'content-type': 'application/octet-stream' } });
    expect(big).toMatchObject({ status: 413, body: { code: 413, message: 'request body of 4096 bytes is over the limit of 1024 bytes' } });
    const small = await envd('/files?path=small', { method: 'POST', body: new Uint8Array(16), headers: { 'content-type': 'application/octet-stream' } });
    expect(small.status).toBe(200);
    expect((await envd('/files?path=small')).text).toHaveLength(16);
  });

  it('answers uploads that are not uploads 400', async () => {
    expect((await envd('/files?path=x', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).body?.message).toMatch(/is not an upload/);
    expect((await envd('/files?path=x', { method: 'POST', body: '--b\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=b' } })).status).toBe(400);
    expect((await envd('/files', { method: 'POST', body: 'x', headers: { 'content-type': 'application/octet-stream' } })).body?.message).toMatch(/path is required/);
  });

  it('answers a path starting // as a path, not a 500 (found by the generated requests below)', async () => {
    expect(await api('//')).toEqual({ status: 404, body: { code: 404, message: 'no route GET //' } });
  });

  it('never answers generated requests with a 500 nor stops serving (fast-check, seed 1818)', async () => {
    const made: string[] = [];
    const request = fc.record({
      plane: fc.constantFrom('api', 'envd'),
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      path: fc.oneof(
        fc.constantFrom('/v2/sandboxes', '/sandboxes', `/sandboxes/SID`, `/sandboxes/SID/timeout`, `/v2/sandboxes/SID/connect`, '/files', '/health', '/process.Process/Start', '/filesystem.Filesystem/Stat'),
        fc.webPath(),
      ),
      query: fc.option(fc.webQueryParameters(), { nil: undefined }),
      body: fc.option(fc.oneof(fc.json(), fc.string(), fc.constant('{}')), { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/connect+json', 'text/plain'),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ plane, method, path, query, body, contentType }) => {
        // With seed 1818 no generated body for /process.Process/Start names a command (each is refused 400/415).
        const target = path.replace('SID', sandboxId) + (query ? `?${query}` : '');
        const init = { method, headers: { 'content-type': contentType }, ...(method !== 'GET' && body !== undefined ? { body } : {}) };
        const res = plane === 'api' ? await api(target, init).catch(() => ({ status: -1, body: undefined })) : await envd(target, init);
        expect(res.status).not.toBe(500);
        expect(res.status).not.toBe(-1);
        if (plane === 'api' && res.status === 201) made.push((res.body as unknown as { sandboxID: string }).sandboxID);
        if (plane === 'api' && res.status >= 400) expect(res.body).toMatchObject({ code: res.status, message: expect.any(String) });
      }),
      { seed: 1818, numRuns: 300 },
    );
    for (const id of made) await api(`/sandboxes/${id}`, { method: 'DELETE' });
    // Generated requests may kill the sandbox they name (DELETE, a timeout of 0): the server itself still answers.
    expect((await api('/v2/sandboxes')).status).toBe(200);
  });
});
