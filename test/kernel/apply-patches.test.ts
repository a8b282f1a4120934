/**
 * The patch series applied to the real linux-source-6.1 tarball: only its
 * small first files are extracted (tar --occurrence stops reading there).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPatches } from '../../kernel/apply-patches.ts';
import { readSeries } from '../../kernel/series.ts';
import { SOURCE_TARBALL } from '../../kernel/source.ts';
import { InputError } from '../../base/errors.ts';

const fixtures = fileURLToPath(new URL('../fixtures/kernel/', import.meta.url));
const FILES = ['linux-source-6.1/.cocciconfig', 'linux-source-6.1/COPYING'];
const missing = !existsSync(SOURCE_TARBALL) ? `${SOURCE_TARBALL} absent (apt-get install linux-source-6.1)` : '';

describe.skipIf(missing !== '')(`applyPatches on linux-source-6.1${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let src: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rigor-patches-'));
    execFileSync('tar', ['-xf', SOURCE_TARBALL, '-C', dir, '--occurrence=1', ...FILES]);
    src = join(dir, 'linux-source-6.1');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies the series in order: the second patch changes what the first wrote', async () => {
    expect(readFileSync(join(src, '.cocciconfig'), 'utf8')).toContain('--timeout 200');
    const series = await readSeries(join(fixtures, 'patches-good'));
    await applyPatches(src, series.patches);
    expect(readFileSync(join(src, '.cocciconfig'), 'utf8')).toBe('[spatch]\n\toptions = --timeout 400\n\toptions = --use-gitgrep\n');
  });

  it('names the patch that does not apply and its series line, and leaves the file it targets untouched', async () => {
    const copying = readFileSync(join(src, 'COPYING'), 'utf8');
    const series = await readSeries(join(fixtures, 'patches-bad'));
    const applying = applyPatches(src, series.patches);
    await expect(applying).rejects.toThrow(InputError);
    await expect(applying).rejects.toThrow(`patch 0002-does-not-apply.patch (${join(fixtures, 'patches-bad', 'series')}:4) does not apply:`);
    await expect(applying).rejects.toThrow(/Hunk #1 FAILED/);
    expect(readFileSync(join(src, 'COPYING'), 'utf8')).toBe(copying);
    // the patch before it did apply
    expect(readFileSync(join(src, '.cocciconfig'), 'utf8')).toContain('--timeout 300');
  });

  it('refuses a patch already applied (--forward) rather than reversing it', async () => {
    const series = await readSeries(join(fixtures, 'patches-good'));
    await applyPatches(src, series.patches.slice(0, 1));
    await expect(applyPatches(src, series.patches.slice(0, 1))).rejects.toThrow(/patch 0001-cocciconfig-timeout-300\.patch .* does not apply:[\s\S]*previously applied/);
    expect(readFileSync(join(src, '.cocciconfig'), 'utf8')).toContain('--timeout 300');
  });
});
