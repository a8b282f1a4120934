import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guestBenchPath } from '../../guest-bench/build.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-guest-bench-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('guest-bench build', () => {
  it('compiles one static binary into the cache once, named by its build id, then reuses it', async () => {
    const cacheDir = join(scratch, 'cache');
    const path = await guestBenchPath({ cacheDir });
    expect(path).toMatch(/rigor\/guest-bench\/[0-9a-f]{64}\/guest-bench$/);
    const built = statSync(path).mtimeMs;
    expect(await guestBenchPath({ cacheDir })).toBe(path);
    expect(statSync(path).mtimeMs).toBe(built);
    // Static: it runs in a busybox rootfs or an initramfs without a libc or ld.so.
    expect(execFileSync('file', ['-b', path], { encoding: 'utf8' })).toMatch(/statically linked/);
    const build = basename(dirname(path)).slice(0, 12);
    expect(execFileSync(path, ['--version'], { encoding: 'utf8' })).toBe(`guest-bench 1.0.0 (build ${build})\n`);
  });

  it('says what to install when there is no C compiler', async () => {
    const missing = join(scratch, 'no-cc');
    await expect(guestBenchPath({ cacheDir: join(scratch, 'other'), compiler: missing })).rejects.toThrow(/no-cc failed: no C compiler \(install gcc and libc6-dev\)/);
  });
});
