/**
 * The test tree mirrors the source tree: a test of `X/y.ts` is
 * `test/X/y.test.ts`; a test of a behaviour that spans a folder (say, every
 * backend's escape attempts) sits in that folder's mirror, named by the
 * behaviour. Helpers and fixtures have folders of their own.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEST = join(ROOT, 'test');
const OWN = new Set(['helpers', 'fixtures']);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return dir === TEST && OWN.has(name) ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/** A folder of test/ mirrors a source folder, or a source file whose tests were split by behaviour. */
function mirrors(folder: string): boolean {
  if (folder === '') return true;
  const source = join(ROOT, folder);
  return (existsSync(source) && statSync(source).isDirectory()) || existsSync(`${source}.ts`);
}

describe('the test tree', () => {
  const files = testFiles(TEST).map((path) => relative(TEST, path));

  it('puts every test in the mirror of a source folder', () => {
    const astray = files.filter((file) => !mirrors(file.split('/').slice(0, -1).join('/')));
    expect(astray, 'move these under test/<the source folder they test>/').toEqual([]);
  });
});
