import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../../base/which.ts';
import type { CacheDropFacts } from '../../../runner/process/cache-drop.ts';
import { coldVerdict, harnessMappings, programFiles } from '../../../runner/process/cold.ts';
import { describeProgram } from '../../../runner/process/program.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-cold-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dropped: CacheDropFacts = {
  requested: true,
  attempted: 3,
  succeeded: 3,
  method: '/proc/sys/vm/drop_caches = 3 after sync',
  cached_kib_before_median: 900_000,
  cached_kib_after_median: 60_000,
};

describe('coldVerdict', () => {
  const harness = [
    { who: "rigor's own process (pid 10)", files: new Set(['/usr/bin/node', '/usr/lib/x86_64-linux-gnu/libc.so.6']) },
    { who: "rigor's native spawner (pid 11)", files: new Set(['/cache/spawner', '/usr/lib/x86_64-linux-gnu/libc.so.6']) },
  ];

  it('is cold when the drops succeeded and nothing of rigor maps the program', () => {
    expect(coldVerdict(['/usr/bin/dash'], dropped, harness)).toEqual({ cold: true });
  });

  it('is not cold, naming the file and who maps it, when rigor maps the program or its interpreter', () => {
    expect(coldVerdict(['/usr/bin/node'], dropped, harness)).toEqual({
      cold: false,
      why: "/usr/bin/node is mapped by rigor's own process (pid 10): drop_caches cannot evict the pages a live process maps, so every run found them cached",
    });
    expect(coldVerdict(['/opt/script', '/usr/lib/x86_64-linux-gnu/libc.so.6'], dropped, harness).why).toMatch(
      /^\/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6 is mapped by rigor's own process \(pid 10\) and rigor's native spawner \(pid 11\): /,
    );
  });

  it('is not cold when some of the file stayed cached after the drops, as fincore read it', () => {
    const resident = { '/usr/bin/dash': { size_kib: 123, resident_kib_median: 116 }, '/usr/bin/node': { size_kib: 96_614, resident_kib_median: 44_668 } };
    expect(coldVerdict(['/usr/bin/dash'], { ...dropped, resident_after_drop: resident }, harness)).toEqual({
      cold: false,
      why: '116 of 123 kB of /usr/bin/dash stayed in the page cache after the drops (median): some live process maps it',
    });
    // a file rigor maps is explained by that alone
    expect(coldVerdict(['/usr/bin/node'], { ...dropped, resident_after_drop: resident }, harness).why).not.toContain('stayed');
    const evicted = { '/usr/bin/dash': { size_kib: 123, resident_kib_median: 0 } };
    expect(coldVerdict(['/usr/bin/dash'], { ...dropped, resident_after_drop: evicted }, harness)).toEqual({ cold: true });
  });

  it('is not cold when no drop succeeded, saying why the first failed', () => {
    const failed = { ...dropped, succeeded: 0, failed_reason: 'EACCES: permission denied' };
    expect(coldVerdict(['/usr/bin/dash'], failed, harness)).toEqual({ cold: false, why: 'no cache drop succeeded (EACCES: permission denied)' });
  });
});

describe('programFiles and harnessMappings', () => {
  it('adds the interpreter a script names, directly or through env', () => {
    const sh = realpathSync(which('sh')!);
    const direct = join(dir, 'direct');
    writeFileSync(direct, `#!${which('sh')} -e\n:\n`, { mode: 0o755 });
    expect(programFiles(describeProgram({ file: direct, argv: ['direct'] }))).toEqual([direct, sh]);
    const viaEnv = join(dir, 'via-env');
    writeFileSync(viaEnv, '#!/usr/bin/env -S sh -e\n:\n', { mode: 0o755 });
    expect(programFiles(describeProgram({ file: viaEnv, argv: ['via-env'] }))).toEqual([viaEnv, sh]);
    const binary = realpathSync(which('true')!);
    expect(programFiles(describeProgram({ file: which('true')!, argv: ['true'] }))).toEqual([binary]);
  });

  it("reads what rigor's own process maps: its node binary among it", () => {
    const [own] = harnessMappings([]);
    expect(own!.who).toBe(`rigor's own process (pid ${process.pid})`);
    expect(own!.files.has(realpathSync(process.execPath))).toBe(true);
  });
});
