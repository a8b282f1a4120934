/** patches/series: one patch name per line, errors naming the series line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PATCHES_DIR } from '../../kernel/paths.ts';
import { parseSeries, readSeries } from '../../kernel/series.ts';

describe('parseSeries', () => {
  it('lists patch names in order with their lines, skipping comments and blank lines', () => {
    expect(parseSeries('# top\n\n0001-a.patch\n0002-b.patch # why\n', 'series')).toEqual([
      { name: '0001-a.patch', file: 'series', line: 3 },
      { name: '0002-b.patch', file: 'series', line: 4 },
    ]);
  });

  it('rejects options after a name, paths leaving the folder and a repeated patch, naming the line', () => {
    expect(() => parseSeries('a.patch -p0\n', 'series')).toThrow('series:1: expected one patch file name per line (patches apply with -p1), found "a.patch -p0"');
    expect(() => parseSeries('# x\n../a.patch\n', 'series')).toThrow(/^series:2: expected a patch file name inside the series' folder/);
    expect(() => parseSeries('/tmp/a.patch\n', 'series')).toThrow(/^series:1: /);
    expect(() => parseSeries('a.patch\nb.patch\na.patch\n', 'series')).toThrow('series:3: a.patch is already listed at line 1');
  });
});

describe('readSeries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-series-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each patch the series names; one it cannot read is an error naming its line', async () => {
    writeFileSync(join(dir, 'series'), '# two\nthere.patch\nmissing.patch\n');
    writeFileSync(join(dir, 'there.patch'), 'diff');
    await expect(readSeries(dir)).rejects.toThrow(`${join(dir, 'series')}:3: patch missing.patch: cannot read ${join(dir, 'missing.patch')} (ENOENT)`);
    writeFileSync(join(dir, 'series'), '# one\nthere.patch\n');
    const series = await readSeries(dir);
    expect(series.patches.map((patch) => [patch.name, patch.line, patch.text])).toEqual([['there.patch', 2, 'diff']]);
  });

  it('reads the project series (empty until a rig justifies a patch)', async () => {
    const series = await readSeries(PATCHES_DIR);
    expect(series.file).toBe(fileURLToPath(new URL('../../patches/series', import.meta.url)));
    for (const patch of series.patches) expect(patch.text).toMatch(/^---|^diff /m);
  });
});
