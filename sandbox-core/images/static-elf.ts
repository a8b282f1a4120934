/**
 * Whether an executable runs without a dynamic loader: an ELF file with no
 * PT_INTERP program header. A rootfs that holds no libc can only run those.
 */
import { open } from 'node:fs/promises';

const PT_INTERP = 3;

/** Reads the ELF header and program headers of `path`; false for anything that is not a 64-bit little-endian ELF. */
export async function isStaticElf(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(64);
    await file.read(header, 0, 64, 0);
    // \x7fELF, class 2 (64-bit), data 1 (little-endian)
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    await file.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    await file.close();
  }
}
