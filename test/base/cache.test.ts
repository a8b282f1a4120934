/** Cache directories: built once, complete or absent, and what a killed builder left is swept. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureCachedDir } from '../../base/cache.ts';

const parent = mkdtempSync(join(tmpdir(), 'rigor-cache-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** A pid no process has: above the kernel's pid_max default range. */
const DEAD_PID = 4_194_304 + 7;

describe('ensureCachedDir', () => {
  it('fills once; a second call finds the manifest and does nothing', async () => {
    let fills = 0;
    const fill = async (temp: string) => {
      fills++;
      writeFileSync(join(temp, 'data'), 'made');
      writeFileSync(join(temp, 'manifest.json'), '{}');
    };
    const dir = await ensureCachedDir(parent, 'abc', fill);
    expect(dir).toBe(join(parent, 'abc'));
    expect(readFileSync(join(dir, 'data'), 'utf8')).toBe('made');
    await ensureCachedDir(parent, 'abc', fill);
    expect(fills).toBe(1);
  });

  it('leaves nothing when fill fails, and sweeps the temp dir of a builder that was killed', async () => {
    const stale = join(parent, `rigor-build-${DEAD_PID}-AbC123`);
    mkdirSync(stale);
    await expect(
      ensureCachedDir(parent, 'broken', async (temp) => {
        writeFileSync(join(temp, 'half'), 'x');
        throw new Error('fill failed');
      }),
    ).rejects.toThrow('fill failed');
    expect(existsSync(join(parent, 'broken'))).toBe(false);
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(parent).filter((name) => name.startsWith('rigor-build-'))).toEqual([]);
  });
});
