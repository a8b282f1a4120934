/** The proxy's unix socket serves the same proxy as its TCP port, and close() removes the socket file. */
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { startProxy } from '../../../sandbox-core/proxy/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-proxy-unix-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function get(socketPath: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: url, headers: { host: new URL(url).host } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

it('forwards and blocks requests that arrive on its unix socket, then removes it', async () => {
  const upstream = http.createServer((req, res) => res.end(`upstream saw ${req.url}`));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  const socketPath = join(scratch, 'proxy.sock');
  const proxy = await startProxy({ mode: 'tunnel', socketPath, decide: (r) => ({ decision: r.path === '/no' ? 'block' : 'allow', ruleId: 'r' }) });
  try {
    expect(await get(socketPath, `http://127.0.0.1:${port}/yes`)).toEqual({ status: 200, body: 'upstream saw /yes' });
    expect((await get(socketPath, `http://127.0.0.1:${port}/no`)).status).toBe(403);
    expect(proxy.stats()).toMatchObject({ allowed: 1, blocked: 1 });
    await expect(startProxy({ mode: 'tunnel', socketPath })).rejects.toThrow(/cannot listen on socketPath/);
  } finally {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  }
  expect(existsSync(socketPath)).toBe(false);
});
