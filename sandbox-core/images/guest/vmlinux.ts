/**
 * The uncompressed kernel inside a bzImage, so qemu can load the ELF and
 * enter it at its PVH entry point: the guest then skips decompressing
 * itself, which under TCG costs about 0.4 s of emulated CPU per boot.
 * The payload's place and length are read from the boot protocol header
 * (Documentation/arch/x86/boot.rst, protocol 2.08+); the build appends the
 * uncompressed size as its last 4 bytes, which checks the result.
 */
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';

/** Decompressors by the payload's first bytes; gzip is done in process. */
const FORMATS: Array<{ name: string; magic: Buffer; tool?: string[] }> = [
  { name: 'gzip', magic: Buffer.from([0x1f, 0x8b]) },
  { name: 'lz4', magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), tool: ['lz4', '-dc'] },
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), tool: ['xz', '-dc'] },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), tool: ['zstd', '-dc'] },
];

const PT_NOTE = 4;
/** Xen's ELF note naming the 32-bit PVH entry point, which qemu's -kernel looks for. */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export type VmlinuxResult = { ok: true; elf: Buffer; compression: string } | { ok: false; reason: string };

/** The compressed payload of a bzImage and the size it must decompress to. */
export function bzImagePayload(image: Buffer): { payload: Buffer; size: number } | { reason: string } {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return { reason: 'not a bzImage (no HdrS boot header)' };
  const protocol = image.readUInt16LE(0x206);
  if (protocol < 0x208) return { reason: `boot protocol ${protocol.toString(16)} is older than 2.08 (no payload fields)` };
  const setupSectors = image[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length < 8 || start + length > image.length) return { reason: 'payload fields point outside the file' };
  const payload = image.subarray(start, start + length);
  return { payload: payload.subarray(0, length - 4), size: payload.readUInt32LE(length - 4) };
}

/** Whether an ELF64 file carries the PVH entry note. */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    const header = phoff + i * phentsize;
    if (elf.readUInt32LE(header) !== PT_NOTE) continue;
    const end = Number(elf.readBigUInt64LE(header + 8)) + Number(elf.readBigUInt64LE(header + 32));
    for (let note = Number(elf.readBigUInt64LE(header + 8)); note + 12 <= end; ) {
      const nameSize = elf.readUInt32LE(note);
      const descSize = elf.readUInt32LE(note + 4);
      const type = elf.readUInt32LE(note + 8);
      const name = elf.toString('latin1', note + 12, note + 12 + nameSize).replace(/\0+$/, '');
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      note += 12 + Math.ceil(nameSize / 4) * 4 + Math.ceil(descSize / 4) * 4;
    }
  }
  return false;
}

/** The bzImage's ELF kernel with a PVH entry, or why it cannot be had (the caller then boots the bzImage). */
export async function extractVmlinux(image: Buffer): Promise<VmlinuxResult> {
  const found = bzImagePayload(image);
  if ('reason' in found) return { ok: false, reason: found.reason };
  const format = FORMATS.find((candidate) => found.payload.subarray(0, candidate.magic.length).equals(candidate.magic));
  if (!format) return { ok: false, reason: `payload compressed with a format not handled here (first bytes ${found.payload.subarray(0, 4).toString('hex')})` };
  let elf: Buffer;
  try {
    if (!format.tool) elf = gunzipSync(found.payload);
    else elf = Buffer.from((await execa(format.tool[0]!, format.tool.slice(1), { input: found.payload, encoding: 'buffer', maxBuffer: 1 << 30 })).stdout);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, reason: missing ? `${format.tool![0]} not on PATH to decompress the ${format.name} payload` : `${format.name} payload: ${(error as Error).message.split('\n')[0]}` };
  }
  if (elf.length !== found.size) return { ok: false, reason: `${format.name} payload decompressed to ${elf.length} bytes, the header says ${found.size}` };
  if (!hasPvhNote(elf)) return { ok: false, reason: 'the kernel has no PVH entry note (built without CONFIG_PVH)' };
  return { ok: true, elf, compression: format.name };
}
