/**
 * `proxy.load`: HTTPS requests from a loopback client to a loopback upstream
 * along one path — `direct`, through our proxy as a plain `tunnel`, through
 * our proxy with TLS interception (`intercept`), or through mitmdump with
 * interception (`mitmproxy`) — so the price of each hop is measured in the
 * same run. `kind: latency` times one small GET per sample with the cell's
 * concurrency in flight on kept-alive connections; `kind: download` times one
 * body of `download_mib` MiB. The upstream and our proxy run in processes of
 * their own (proxy/serve.ts), as mitmdump does. Requests per second (requests
 * completed over the sample phase's wall time) go to facts.
 */
import { execFile } from 'node:child_process';
import https from 'node:https';
import { promisify } from 'node:util';
import { z } from 'zod';
import { sampleLoop, type SampleValues } from '../sampling/loop.ts';
import { connectAgent } from '../loopback/connect-agent.ts';
import { startMitmdump } from '../loopback/mitmdump.ts';
import { startServed } from '../loopback/served.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../contract/workload.ts';
import { wholeNumber } from './param-checks.ts';

const PATHS = ['direct', 'tunnel', 'intercept', 'mitmproxy'] as const;
export type ProxyPath = (typeof PATHS)[number];
const KINDS = ['latency', 'download'] as const;
const MIB = 1024 * 1024;

export const proxyLoadWorkload: Workload = {
  name: 'proxy.load',
  description: 'HTTPS GETs to a loopback upstream direct, through our proxy (tunnel/intercept) or mitmdump (params.path, params.kind)',
  paramsSchema: z.strictObject({ path: z.enum(PATHS), kind: z.enum(KINDS).optional(), download_mib: wholeNumber({ unit: 'MiB' }).optional() }),
  requirements: (params) => (params.path === 'mitmproxy' ? [{ binary: 'mitmdump' }] : []),
  run: runProxyLoad,
};

/** The path under test, running: where the client connects and which CA it must trust. */
interface Hop {
  proxy?: { host: string; port: number };
  trust: string;
  /** Stop it; resolves with its counters. */
  close(): Promise<Record<string, unknown>>;
}

/** Our proxy and mitmdump each run in a process of their own, as the upstream does: the client's event loop is not theirs. */
async function startHop(path: ProxyPath, upstream: { caPem: string; caFile: string }, signal: AbortSignal): Promise<Hop> {
  if (path === 'direct') return { trust: upstream.caPem, close: async () => ({}) };
  if (path === 'mitmproxy') {
    const mitm = await startMitmdump(upstream.caFile, signal);
    return { proxy: { host: '127.0.0.1', port: mitm.port }, trust: mitm.caPem, close: async () => (await mitm.stop(), {}) };
  }
  const proxy = await startServed([path, upstream.caFile]);
  return { proxy: { host: '127.0.0.1', port: proxy.ready.port }, trust: proxy.ready.caPem ?? upstream.caPem, close: proxy.stop };
}

/** GET `url` with `agent`; resolves with the status and the number of body bytes once the last byte was read. */
function get(url: string, agent: https.Agent, signal: AbortSignal): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { agent, signal }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
      response.once('error', reject);
    });
    request.once('error', reject);
  });
}

const mitmdumpVersion = async (): Promise<string | null> => {
  try {
    const { stdout } = await promisify(execFile)('mitmdump', ['--version']);
    return /Mitmproxy:\s*(\S+)/.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
};

async function runProxyLoad(ctx: CellContext): Promise<WorkloadResult> {
  const path = ctx.params.path as ProxyPath;
  const kind = (ctx.params.kind as (typeof KINDS)[number] | undefined) ?? 'latency';
  const bytes = ((ctx.params.download_mib as number | undefined) ?? 64) * MIB;
  const upstream = await startServed(['upstream']);
  const { port, caPem, caFile } = upstream.ready;
  let hop: Hop | undefined;
  let agent: https.Agent | undefined;
  try {
    hop = await startHop(path, { caPem: caPem!, caFile: caFile! }, ctx.signal);
    agent = connectAgent({ proxy: hop.proxy, ca: [hop.trust], maxSockets: ctx.sampling.concurrency });
    const url = kind === 'download' ? `https://127.0.0.1:${port}/big?bytes=${bytes}` : `https://127.0.0.1:${port}/small`;
    const expected = kind === 'download' ? bytes : 2;
    // The sample phase's wall time, for requests/s: first sample started -> last sample finished.
    let first = Infinity;
    let last = -Infinity;
    let completed = 0;
    const result = await sampleLoop(ctx, async (index, signal): Promise<SampleValues> => {
      const start = performance.now();
      const reply = await get(url, agent!, signal).catch((error: Error) => {
        throw new WorkloadError(`${path}: GET ${url} failed: ${error.message}`);
      });
      const ms = performance.now() - start;
      if (reply.status !== 200 || reply.bytes !== expected) {
        throw new WorkloadError(`${path}: GET ${url} answered ${reply.status} with ${reply.bytes} bytes, expected 200 with ${expected}`);
      }
      if (index >= ctx.sampling.warmup) {
        first = Math.min(first, start);
        last = Math.max(last, start + ms);
        completed += 1;
      }
      return kind === 'download' ? { throughput_mib_s: bytes / MIB / (ms / 1000) } : { latency_ms: ms };
    });
    const wallS = (last - first) / 1000;
    agent.destroy();
    const hopCounters = await hop.close();
    hop = undefined;
    const { hits } = await upstream.stop();
    return {
      ...result,
      facts: {
        path,
        kind,
        requests_completed: completed,
        requests_per_s: completed > 0 && wallS > 0 ? completed / wallS : null,
        upstream_requests: hits ?? null,
        ...(kind === 'download' ? { download_bytes: bytes } : {}),
        ...hopCounters,
      },
      tools: path === 'mitmproxy' ? { mitmdump: await mitmdumpVersion() } : undefined,
    };
  } finally {
    agent?.destroy();
    await hop?.close();
    await upstream.stop();
  }
}
