import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAgentPath, nodeAgentPath } from '../../../sandbox-core/agent/build.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-build-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('agent builds', () => {
  it('compile the native agent statically into the cache once, then reuse it', async () => {
    const cacheDir = join(scratch, 'cache');
    const path = await nativeAgentPath({ cacheDir });
    expect(path).toMatch(/rigor\/agent\/[0-9a-f]{64}\/rigor-agent$/);
    const built = statSync(path).mtimeMs;
    expect(await nativeAgentPath({ cacheDir })).toBe(path);
    expect(statSync(path).mtimeMs).toBe(built);
    // Static: no program interpreter (ld.so) to find in a busybox rootfs or an initramfs.
    expect(execFileSync('file', ['-b', path], { encoding: 'utf8' })).toMatch(/statically linked/);
    // HELLO names the build by the cache key's prefix
    expect(readFileSync(path).includes(`rigor-agent ${basename(dirname(path)).slice(0, 12)}\0`)).toBe(true);
  });

  it('says what to install when there is no C compiler', async () => {
    const missing = join(scratch, 'no-cc');
    await expect(nativeAgentPath({ cacheDir: join(scratch, 'other'), compiler: missing })).rejects.toThrow(
      /no-cc failed: no C compiler \(install gcc and libc6-dev\): .*ENOENT/,
    );
  });

  it('bundle the Node agent into one module that imports only node: builtins', async () => {
    const path = await nodeAgentPath({ cacheDir: join(scratch, 'cache') });
    expect(path).toMatch(/rigor\/agent\/[0-9a-f]{64}\/node-agent\.mjs$/);
    const imports = [...readFileSync(path, 'utf8').matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((name) => name!.startsWith('node:'))).toBe(true);
  });
});
