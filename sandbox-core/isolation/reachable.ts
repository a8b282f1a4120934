/**
 * Whether a host path can be reached by a sandbox's unprivileged host uids
 * (bwrap's launcher, runc's mapped root), and safely: every directory from /
 * down to it must be searchable by others, owned by root and writable by
 * nobody else (or sticky, as /tmp), so what is found there cannot be swapped.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Throws naming `what`, the first directory that fails and why. */
export async function checkReachable(path: string, what: string): Promise<void> {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const entry = await stat(dir);
    const mode = entry.mode & 0o7777;
    if (!(mode & 0o001)) {
      throw new Error(`${what}: ${path} must be reachable by the sandbox's unprivileged uids, but ${dir} (mode ${mode.toString(8)}) is not searchable by others: make it 0711 or wider`);
    }
    if (entry.uid !== 0 || (mode & 0o022 && !(mode & 0o1000))) {
      throw new Error(`${what}: ${dir} must be owned by root and writable by nobody else (uid ${entry.uid}, mode ${mode.toString(8)})`);
    }
    if (dir === '/') return;
  }
}

/** A unix socket a sandbox's own uid must connect to: reachable as above, and writable by others (connect needs write). */
export async function checkConnectable(socket: string, what: string): Promise<void> {
  const entry = await stat(socket).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${what}: expected a listening unix socket, found ${error.code === 'ENOENT' ? 'nothing' : error.code} at ${socket}`);
  });
  if (!entry.isSocket()) throw new Error(`${what}: expected a listening unix socket, found another kind of file at ${socket}`);
  await checkReachable(socket, what);
  const mode = entry.mode & 0o777;
  if (!(mode & 0o002)) {
    throw new Error(`${what}: ${socket} (mode ${mode.toString(8)}) cannot be connected to by the sandbox's unprivileged uids: listen with writableAll (0666)`);
  }
}
