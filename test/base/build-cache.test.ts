/** Cached builds: every input is in the key, an unchanged input reuses the build, and concurrent builds leave one file. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedBundle, cachedCBuild, compilerIdentity, type CBuild } from '../../base/build-cache.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-build-cache-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const src = join(scratch, 'src');
mkdirSync(join(src, 'include'), { recursive: true });
const main = join(src, 'main.c');
const header = join(src, 'util.h');
const nested = join(src, 'include', 'inner.h');
const extra = join(src, 'extra.h');
const cacheDir = join(scratch, 'cache');

const MAIN = '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d %s\\n", VALUE + INNER, BUILD); return 0; }\n';
const UTIL = '#include "inner.h"\n#define VALUE 1\n';
const INNER = '#define INNER 10\n';
writeFileSync(main, MAIN);
writeFileSync(header, UTIL);
writeFileSync(nested, INNER);
writeFileSync(extra, '/* listed, not included */\n');

const spec = (extraSpec: Partial<CBuild> = {}): CBuild => ({
  kind: 'test-c',
  sources: [main],
  headers: [extra],
  flags: ['-O2', `-I${join(src, 'include')}`],
  buildIdMacro: 'BUILD',
  cacheDir,
  fileName: 'prog',
  ...extraSpec,
});

/** The cached path of spec() now, with `file` holding `text` for the build (restored after). */
async function pathWith(file: string, text: string, original: string): Promise<string> {
  writeFileSync(file, text);
  try {
    return (await cachedCBuild(spec())).path;
  } finally {
    writeFileSync(file, original);
  }
}

describe('cachedCBuild', () => {
  it('builds once, names the build by the key prefix, and reuses it while nothing changed', async () => {
    const first = await cachedCBuild(spec());
    expect(first.path).toMatch(/rigor\/test-c\/[0-9a-f]{64}\/prog$/);
    expect(first.buildId).toBe(dirname(first.path).split('/').pop()!.slice(0, 12));
    expect(execFileSync(first.path, { encoding: 'utf8' })).toBe(`11 ${first.buildId}\n`);
    const again = await cachedCBuild(spec());
    expect(again).toEqual({ ...first, built: false });
  });

  it('changes the key when a source, an included header, a nested header or a listed header changes', async () => {
    const base = (await cachedCBuild(spec())).path;
    const changed = [
      await pathWith(main, MAIN.replace('VALUE + INNER', 'VALUE + INNER + 1'), MAIN),
      await pathWith(header, UTIL.replace('VALUE 1', 'VALUE 2'), UTIL),
      await pathWith(nested, INNER.replace('10', '20'), INNER),
      await pathWith(extra, '/* edited */\n', '/* listed, not included */\n'),
    ];
    expect(new Set([base, ...changed]).size).toBe(5);
    // restored inputs find the first build again
    expect(await cachedCBuild(spec())).toMatchObject({ path: base, built: false });
  });

  it('changes the key when a flag, a define, a library, the file name or the compiler changes', async () => {
    const base = (await cachedCBuild(spec())).path;
    const wrapper = join(scratch, 'wrapped-cc');
    // the same cc under another identity
    writeFileSync(wrapper, '#!/bin/sh\nif [ "$1" = --version ]; then echo "wrapped-cc 99.0"; exit 0; fi\nexec cc "$@"\n');
    chmodSync(wrapper, 0o755);
    expect(await compilerIdentity(wrapper)).toBe('wrapped-cc 99.0');
    expect(await compilerIdentity()).not.toBe('wrapped-cc 99.0');
    const variants = [
      spec({ flags: ['-O1', `-I${join(src, 'include')}`] }),
      spec({ defines: { EXTRA: '1' } }),
      spec({ libraries: ['m'] }),
      spec({ fileName: 'prog2' }),
      spec({ compiler: wrapper }),
    ];
    const paths = [];
    for (const variant of variants) {
      const build = await cachedCBuild(variant);
      expect(execFileSync(build.path, { encoding: 'utf8' })).toBe(`11 ${build.buildId}\n`);
      paths.push(build.path);
    }
    expect(new Set([base, ...paths]).size).toBe(variants.length + 1);
  });

  it('leaves one file when two builds of the same inputs race', async () => {
    const raceCache = join(scratch, 'race');
    const [a, b] = await Promise.all([cachedCBuild(spec({ cacheDir: raceCache })), cachedCBuild(spec({ cacheDir: raceCache }))]);
    expect(a.path).toBe(b.path);
    expect(readdirSync(dirname(a.path))).toEqual(['prog']);
    expect(execFileSync(a.path, { encoding: 'utf8' })).toBe(`11 ${a.buildId}\n`);
  });

  it('says what to install when there is no C compiler, and caches nothing', async () => {
    const missing = join(scratch, 'no-cc');
    const failCache = join(scratch, 'fail');
    await expect(cachedCBuild(spec({ compiler: missing, cacheDir: failCache }))).rejects.toThrow(/no-cc failed: no C compiler \(install gcc and libc6-dev\): .*ENOENT/);
    const kindDir = join(failCache, 'rigor', 'test-c');
    expect(readdirSync(kindDir).flatMap((key) => readdirSync(join(kindDir, key)))).toEqual([]);
  });
});

describe('cachedBundle', () => {
  const mod = join(scratch, 'mod');
  mkdirSync(join(mod, 'lib'), { recursive: true });
  const entry = join(mod, 'entry.ts');
  const dep = join(mod, 'lib', 'dep.ts');
  const deeper = join(mod, 'deeper.ts');
  const unused = join(mod, 'unused.ts');
  writeFileSync(entry, "import { greet } from './lib/dep.ts';\nconsole.log(greet('rigor'));\n");
  writeFileSync(dep, "import { suffix } from '../deeper.ts';\nexport const greet = (name: string): string => `hello ${name}${suffix}`;\n");
  writeFileSync(deeper, "export const suffix: string = '!';\n");
  writeFileSync(unused, 'export const nothing = 0;\n');
  const bundle = () => cachedBundle({ kind: 'test-bundle', entry, cacheDir, fileName: 'out.mjs' });

  it('bundles once, runs under plain Node, and reuses the bundle while no bundled module changed', async () => {
    const first = await bundle();
    expect(first.path).toMatch(/rigor\/test-bundle\/[0-9a-f]{64}\/out\.mjs$/);
    expect(execFileSync(process.execPath, [first.path], { encoding: 'utf8' })).toBe('hello rigor!\n');
    // a module in the directory that nothing imports is not an input
    writeFileSync(unused, 'export const nothing = 1;\n');
    expect(await bundle()).toEqual({ ...first, built: false });
  });

  it('changes the key when any bundled module changes, however deep its import', async () => {
    const first = (await bundle()).path;
    writeFileSync(deeper, "export const suffix: string = '?';\n");
    const changed = await bundle();
    expect(changed.path).not.toBe(first);
    expect(execFileSync(process.execPath, [changed.path], { encoding: 'utf8' })).toBe('hello rigor?\n');
    writeFileSync(deeper, "export const suffix: string = '!';\n");
    expect((await bundle()).path).toBe(first);
  });
});
