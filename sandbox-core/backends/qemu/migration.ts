/**
 * qemu's migration stream to and from files the host writes and reads: qemu
 * 7.2 has no `file:` URI, and an `exec:` command would run as the guest's
 * uid, so the host listens (save) or connects (restore) on a unix socket in
 * the sandbox's run dir and does the file I/O itself. Guest RAM stays out of
 * the stream (x-ignore-shared: it is a shared file the caller copies).
 */
import { createHash } from 'node:crypto';
import { chownSync, createWriteStream } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { QmpClient } from './qmp.ts';

const IGNORE_SHARED = { capabilities: [{ capability: 'x-ignore-shared', state: true }] };
/** How often query-migrate is asked while a stream runs. */
const POLL_MS = 2;

/** Waits until qemu's migration (outgoing or incoming) completes; rejects with qemu's reason when it fails. */
async function settled(qmp: QmpClient, what: string): Promise<void> {
  for (;;) {
    const status = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
    if (status.status === 'completed') return;
    if (status.status === 'failed' || status.status === 'cancelled') throw new Error(`${what}: qemu says migration ${status.status}${status['error-desc'] ? `: ${status['error-desc']}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Saves a stopped guest's device state into `file`: its size and sha256. */
export async function saveState(qmp: QmpClient, runDir: string, uid: number, file: string): Promise<{ bytes: number; sha256: string }> {
  await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
  const path = join(runDir, 'save.sock');
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  try {
    chownSync(path, uid, uid); // qemu runs as the sandbox's uid and connects to it
    const hash = createHash('sha256');
    let bytes = 0;
    const written = new Promise<void>((resolve, reject) => {
      server.once('connection', (socket: Socket) => {
        const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
        socket.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
        });
        socket.pipe(out);
        out.once('error', (error) => {
          socket.destroy();
          reject(new Error(`writing ${file}: ${error.message}`));
        });
        out.once('finish', resolve);
      });
    });
    written.catch(() => undefined);
    await qmp.execute('migrate', { uri: `unix:${path}` });
    await Promise.all([settled(qmp, 'saving the device state'), written]);
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    server.close();
  }
}

/** Loads `state` (a saveState stream) into a qemu started with `-incoming defer`, which then stays paused until `cont`. */
export async function loadState(qmp: QmpClient, runDir: string, state: Buffer): Promise<void> {
  await qmp.execute('migrate-set-capabilities', IGNORE_SHARED);
  const path = join(runDir, 'incoming.sock');
  await qmp.execute('migrate-incoming', { uri: `unix:${path}` });
  const socket = await new Promise<Socket>((resolve, reject) => {
    const attempt = connect(path);
    attempt.once('connect', () => resolve(attempt));
    attempt.once('error', (error) => reject(new Error(`restore: qemu's incoming socket ${path}: ${error.message}`)));
  });
  socket.on('error', () => undefined); // qemu closing early is reported by query-migrate or its exit
  socket.end(state);
  await settled(qmp, 'loading the device state');
}
