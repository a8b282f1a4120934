/**
 * Entry of a server the proxy rig runs in a process of its own, so the
 * client, the upstream and the proxy under test do not share one event loop
 * (mitmdump has its own process too):
 *   node --import tsx serve.ts upstream
 *   node --import tsx serve.ts tunnel|intercept <upstream-ca.pem>
 * Prints one JSON line when listening ({ port, caPem, caFile? }); when stdin
 * ends it closes, prints one JSON line of counters and exits.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa } from '../../sandbox-core/proxy/ca.ts';
import { startProxy } from '../../sandbox-core/proxy/proxy.ts';
import { startLoopbackUpstream } from './upstream.ts';

interface Served {
  ready: Record<string, unknown>;
  close(): Promise<Record<string, unknown>>;
}

async function serve(role: string | undefined, upstreamCaFile: string | undefined): Promise<Served> {
  if (role === 'upstream') {
    const upstream = await startLoopbackUpstream();
    return {
      ready: { port: upstream.port, caPem: upstream.caPem, caFile: upstream.caFile },
      close: async () => {
        const hits = upstream.hits();
        await upstream.close();
        return { hits };
      },
    };
  }
  if ((role === 'tunnel' || role === 'intercept') && upstreamCaFile) {
    const upstreamCa = [await readFile(upstreamCaFile, 'utf8')];
    const caDir = await mkdtemp(join(tmpdir(), 'rigor-proxy-ca-'));
    const ca = role === 'intercept' ? await loadOrCreateCa(caDir) : undefined;
    const proxy = await startProxy({ mode: role, ca, upstreamCa });
    return {
      ready: { port: proxy.port, caPem: ca?.certPem ?? null },
      close: async () => {
        const stats = proxy.stats();
        await proxy.close();
        await rm(caDir, { recursive: true, force: true });
        return { proxy: stats };
      },
    };
  }
  throw new Error(`usage: serve.ts upstream | serve.ts tunnel|intercept <upstream-ca.pem> (found ${JSON.stringify(process.argv.slice(2))})`);
}

const served = await serve(process.argv[2], process.argv[3]);
process.stdout.write(`${JSON.stringify(served.ready)}\n`);
process.stdin.resume();
process.stdin.once('end', async () => {
  process.stdout.write(`${JSON.stringify(await served.close())}\n`);
  process.exit(0);
});
