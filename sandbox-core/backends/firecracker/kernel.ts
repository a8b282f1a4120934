/**
 * Whether a file is a kernel Firecracker can boot on x86_64: an uncompressed
 * ELF vmlinux. Distribution kernels ship a bzImage (/boot/vmlinuz-*), which
 * Firecracker refuses there; the ELF is what `scripts/extract-vmlinux` of the
 * kernel's source tree recovers from one, or `vmlinux` at the top of a build.
 */
import { open } from 'node:fs/promises';

const ELF_MAGIC = 0x7f454c46;
const EM_X86_64 = 0x3e;
/** The "HdrS" signature of the x86 boot protocol, at 0x202 of every bzImage. */
const BZIMAGE_SIGNATURE_OFFSET = 0x202;

/** Why `path` is not a bootable x86_64 vmlinux, or null when it is one. */
export async function kernelProblem(path: string): Promise<string | null> {
  let header: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      header = Buffer.alloc(0x210);
      const { bytesRead } = await file.read(header, 0, header.length, 0);
      header = header.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    return `cannot read the kernel ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  if (header.length >= 20 && header.readUInt32BE(0) === ELF_MAGIC) {
    // ELFCLASS64, little-endian, e_machine x86-64
    if (header[4] === 2 && header[5] === 1 && header.readUInt16LE(18) === EM_X86_64) return null;
    return `${path} is an ELF file but not a 64-bit x86 one`;
  }
  if (header.length >= BZIMAGE_SIGNATURE_OFFSET + 4 && header.toString('latin1', BZIMAGE_SIGNATURE_OFFSET, BZIMAGE_SIGNATURE_OFFSET + 4) === 'HdrS') {
    return `${path} is a compressed bzImage; Firecracker boots only an uncompressed ELF vmlinux (extract one with the kernel source's scripts/extract-vmlinux)`;
  }
  return `${path} is neither an ELF vmlinux nor a bzImage`;
}
