/**
 * The layer rule (.dependency-cruiser.cjs) catches what it is for: run on a
 * small tree with an upward import and a cycle, it fails and names both files
 * of each; run on the project, `npm run deps` (part of `npm test`) passes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const CONFIG = resolve('.dependency-cruiser.cjs');
const DEPCRUISE = resolve('node_modules/.bin/depcruise');
const tree = mkdtempSync(join(tmpdir(), 'rigor-layers-test-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));

function file(path: string, text: string): void {
  mkdirSync(join(tree, path, '..'), { recursive: true });
  writeFileSync(join(tree, path), text);
}

describe('the layer rule', () => {
  it('fails on an upward import and on a cycle, naming both files', async () => {
    file('runner/run.ts', "export const run = 1;\n");
    file('sandbox-core/backend.ts', "import { run } from '../runner/run.ts';\nexport const backend = run;\n");
    file('base/a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    file('base/b.ts', "import { a } from './a.ts';\nexport const b = () => a;\n");
    const result = await execa(DEPCRUISE, ['--config', CONFIG, 'base', 'sandbox-core', 'runner'], { cwd: tree, reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toMatch(/sandbox-core: sandbox-core\/backend\.ts → runner\/run\.ts/);
    expect(result.stdout).toMatch(/no-circular: base\/a\.ts →\s+base\/b\.ts →\s+base\/a\.ts/);
  });

  it('holds for the project', async () => {
    const result = await execa('npm', ['run', '--silent', 'deps'], { reject: false });
    expect(result.stdout).toMatch(/no dependency violations found/);
    expect(result.exitCode).toBe(0);
  });
});
