/**
 * mitmdump (Debian's mitmproxy) as an intercepting proxy on loopback, the
 * comparison the proxy rig holds ours against. Its own process group, its
 * own confdir (where it writes the CA a client must trust), both gone after
 * stop(), also when start fails half way.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroup } from '../process/process-group.ts';

export interface RunningMitmdump {
  port: number;
  pid: number;
  /** PEM of the CA mitmdump generated in its confdir. */
  caPem: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** A port free right now on 127.0.0.1 (mitmdump cannot be told to pick one and report it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Start mitmdump trusting `upstreamCaFile` for upstream TLS and streaming
 * bodies over 1 MiB (its default buffers a whole body before passing it on).
 */
export async function startMitmdump(upstreamCaFile: string, signal?: AbortSignal): Promise<RunningMitmdump> {
  const confdir = await mkdtemp(join(tmpdir(), 'rigor-mitmdump-'));
  const port = await freePort();
  const child = spawn(
    'mitmdump',
    ['--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${upstreamCaFile}`, '--set', 'stream_large_bodies=1m', '-q'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code) => ((exitCode = code), resolve()));
    child.once('error', (error) => ((stderr += String(error)), (exitCode = -1), resolve()));
  });
  const stop = async () => {
    if (child.pid !== undefined && exitCode === undefined) await killGroup(child.pid, exited);
    await rm(confdir, { recursive: true, force: true });
  };
  try {
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!(await accepts(port))) {
      if (exitCode !== undefined) throw new Error(`mitmdump exited (${exitCode}) before listening on 127.0.0.1:${port}: ${stderr.trim()}`);
      if (signal?.aborted) throw new Error('mitmdump start interrupted');
      if (performance.now() > deadline) throw new Error(`mitmdump did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const caPem = await readFile(join(confdir, 'mitmproxy-ca-cert.pem'), 'utf8');
    return { port, pid: child.pid!, caPem, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
