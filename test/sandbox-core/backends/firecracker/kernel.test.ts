import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelProblem } from '../../../../sandbox-core/backends/firecracker/kernel.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-fc-kernel-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 64-bit little-endian ELF header for `machine` (e_machine at offset 18). */
function elfHeader(machine: number): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeUInt16LE(machine, 18);
  return header;
}

const bzImage = readdirSync('/boot', { withFileTypes: true }).find((entry) => entry.isFile() && entry.name.startsWith('vmlinuz-'));

describe('kernelProblem', () => {
  it.runIf(process.arch === 'x64')('accepts an x86-64 ELF (this node binary is one)', async () => {
    expect(await kernelProblem(process.execPath)).toBeNull();
  });

  it.skipIf(!bzImage)(`refuses the distribution bzImage with the way out${bzImage ? '' : ' (skipped: no /boot/vmlinuz-*)'}`, async () => {
    const path = join('/boot', bzImage!.name);
    expect(await kernelProblem(path)).toBe(
      `${path} is a compressed bzImage; Firecracker boots only an uncompressed ELF vmlinux (extract one with the kernel source's scripts/extract-vmlinux)`,
    );
  });

  it('refuses an ELF for another machine, a file that is no kernel, and a missing file', async () => {
    writeFileSync(join(dir, 'aarch64.elf'), elfHeader(0xb7));
    writeFileSync(join(dir, 'notes.txt'), 'not a kernel\n');
    expect(await kernelProblem(join(dir, 'aarch64.elf'))).toBe(`${join(dir, 'aarch64.elf')} is an ELF file but not a 64-bit x86 one`);
    expect(await kernelProblem(join(dir, 'notes.txt'))).toBe(`${join(dir, 'notes.txt')} is neither an ELF vmlinux nor a bzImage`);
    expect(await kernelProblem(join(dir, 'missing'))).toBe(`cannot read the kernel ${join(dir, 'missing')}: ENOENT`);
  });
});
