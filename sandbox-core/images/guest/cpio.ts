/**
 * A cpio archive in the "newc" format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst). Written here
 * rather than by cpio(1) so every entry is owned by root with mtime 0 and
 * device nodes (/dev/console) can be made without root: the same inputs give
 * the same bytes.
 */

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'char'; path: string; major: number; minor: number; mode?: number };

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 } as const;
const DEFAULT_PERMISSIONS = { dir: 0o755, file: 0o644, symlink: 0o777, char: 0o600 } as const;
const HEADER_BYTES = 110;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Zero bytes that bring `length` up to a multiple of 4. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(ino: number, mode: number, name: string, data: Uint8Array, rdev: [number, number] = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [ino, mode, 0, 0, mode & TYPE_BITS.dir ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [header, nameBytes, padding(HEADER_BYTES + nameBytes.length), Buffer.from(data), padding(data.length)];
}

/** The archive of `entries` in order (a directory must come before what it holds), ending with the trailer. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    const name = entry.path.replace(/^\/+/, '');
    if (name === '' || name.split('/').includes('..')) throw new Error(`cpio entry path: expected a relative path inside the archive, found ${JSON.stringify(entry.path)}`);
    const permissions = entry.kind === 'symlink' ? DEFAULT_PERMISSIONS.symlink : (entry.mode ?? DEFAULT_PERMISSIONS[entry.kind]);
    const mode = TYPE_BITS[entry.kind] | (permissions & 0o7777);
    const data = entry.kind === 'file' ? entry.data : entry.kind === 'symlink' ? Buffer.from(entry.target, 'utf8') : new Uint8Array(0);
    const rdev: [number, number] | undefined = entry.kind === 'char' ? [entry.major, entry.minor] : undefined;
    parts.push(...record(index + 1, mode, name, data, rdev));
  });
  parts.push(...record(0, 0, 'TRAILER!!!', new Uint8Array(0)));
  return Buffer.concat(parts);
}
