/**
 * Reading a file a user names (a rig, an artifact, a policy) with a size
 * limit: a regular file only (a FIFO would block the read, /dev/zero never
 * end it), refused by its size before any of it is read, and never more than
 * the limit read even when it grows meanwhile.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Dirent, type Stats } from 'node:fs';

export type BoundedRead = { ok: true; bytes: Buffer } | { ok: false; expected: string; found: string };

/** "256 kB", "64 MB": a size as the limits are stated. */
export function sizeText(bytes: number): string {
  return bytes < 1e6 ? `${Number((bytes / 1e3).toPrecision(3))} kB` : `${Number((bytes / 1e6).toPrecision(3))} MB`;
}

/** What a file that is not a regular file is, for a message: "a FIFO", "a directory". */
export function fileKind(stats: Stats | Dirent): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * `what` names the kind of file in "expected …" ("rig file": "expected a readable rig file").
 * `noFollow`: a symbolic link is refused (found "ELOOP") instead of followed.
 */
export function readBounded(path: string, maxBytes: number, what: string, { noFollow = false }: { noFollow?: boolean } = {}): BoundedRead {
  const a = /^[aeiou]/.test(what) ? 'an' : 'a';
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO does not wait for a writer; fstat then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0));
  } catch (error) {
    return { ok: false, expected: `a readable ${what}`, found: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, expected: `${a} ${what} (a regular file)`, found: fileKind(stat) };
    const limit = `${a} ${what} of at most ${sizeText(maxBytes)}`;
    if (stat.size > maxBytes) return { ok: false, expected: limit, found: `${sizeText(stat.size)} (${stat.size} bytes)` };
    // one byte past the size fstat gave tells a file that grew; it may, up to the limit
    let buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return { ok: false, expected: limit, found: 'more (the file grew while it was read)' };
        const larger = Buffer.alloc(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(larger);
        buffer = larger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) return { ok: false, expected: limit, found: 'more (the file grew while it was read)' };
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { ok: false, expected: `a readable ${what}`, found: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    closeSync(fd);
  }
}
