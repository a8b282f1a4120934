import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { residency } from '../../../runner/process/resident.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-resident-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('residency (fincore)', () => {
  it('says how much of each file is in the page cache, and its size', async () => {
    const file = join(dir, 'data');
    writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    readFileSync(file); // just written and read: in the page cache
    const [row] = await residency([file], { timeoutMs: 10_000 });
    expect(row).toEqual({ file, resident: 64 * 1024, size: 64 * 1024 });
  });

  it('names a file it cannot look at', async () => {
    await expect(residency([join(dir, 'missing')], { timeoutMs: 10_000 })).rejects.toThrow(/missing: No such file/);
  });
});
