/**
 * The CLI's bundle (bin/cli-bundle.js): bin/rigor.js runs it when it was
 * built from the files as they are, and the TypeScript sources through tsx
 * the moment one of them differs, so an edit is never hidden by an old bundle.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript (it runs before any TypeScript loader), no types
import { buildBundle, freshBundle } from '../../bin/cli-bundle.js';
import { CLI, REPO, rigor } from '../helpers/cli.ts';

type BundleState = { entry: string } | { stale: string };
const state = freshBundle as (root?: string) => BundleState;
const build = buildBundle as (root?: string) => Promise<{ entry: string }>;
const LOADER = { RIGOR_DEBUG_LOADER: '1' };

/** `node <root>/bin/rigor.js --version` with the loader said on stderr. */
function version(cli: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, '--version'], { env: { ...process.env, ...LOADER, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, loader: /^rigor: loader (.*)$/m.exec(result.stderr)?.[1] ?? result.stderr };
}

describe('bin/rigor.js in this checkout', () => {
  beforeAll(async () => {
    // npm ci built it (the prepare script); a checkout edited since is bundled again, as `npm run build` would.
    if (!('entry' in state())) await build();
  }, 120_000);

  it('runs the bundle in dist/cli/, which was built from the sources as they are', () => {
    const fresh = state();
    expect(fresh).toHaveProperty('entry');
    const run = version(CLI);
    expect(run.code).toBe(0);
    expect(run.loader).toBe(`bundle ${(fresh as { entry: string }).entry}`);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });

  it('runs the sources through tsx when asked to (RIGOR_LOADER=tsx)', () => {
    const run = version(CLI, { RIGOR_LOADER: 'tsx' });
    expect(run.code).toBe(0);
    expect(run.loader).toBe('tsx (RIGOR_LOADER=tsx)');
  });

  it('finds the files beside its sources from the bundle (here the rig schema a bad rig is checked against)', () => {
    const result = rigor(['validate', 'rigs/startup.rig.yaml', 'test/fixtures/rigs/bad/better-faster.rig.yaml'], { env: LOADER });
    expect(result.stderr).toMatch(/^rigor: loader bundle /m);
    expect(result.stdout).toMatch(/^ok\s+rigs\/startup\.rig\.yaml/m);
    expect(result.stdout).toMatch(/INVALID\s+test\/fixtures\/rigs\/bad\/better-faster\.rig\.yaml:\d+:\d+: metrics\.wall_ms\.better: expected one of lower, higher, found "faster"/);
  });
});

describe('a bundle in a checkout edited after it was built', () => {
  let root: string;
  let cli: string;

  beforeAll(async () => {
    // A checkout of its own: runner/ copied (the test edits it), the rest linked to this one.
    root = mkdtempSync(join(tmpdir(), 'rigor-bundle-'));
    mkdirSync(join(root, 'bin'));
    for (const file of ['rigor.js', 'cli-bundle.js']) copyFileSync(join(REPO, 'bin', file), join(root, 'bin', file));
    for (const file of ['package.json', 'tsconfig.json']) copyFileSync(join(REPO, file), join(root, file));
    cpSync(join(REPO, 'runner'), join(root, 'runner'), { recursive: true });
    for (const dir of ['base', 'kernel', 'guest-bench', 'sandbox-core', 'schemas', 'site', 'native', 'node_modules']) symlinkSync(join(REPO, dir), join(root, dir));
    await build(root);
    cli = join(root, 'bin', 'rigor.js');
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is used while nothing changed, also after a file is touched without a change', () => {
    const file = join(root, 'runner', 'version.ts');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    expect(state(root)).toHaveProperty('entry');
    expect(version(cli).loader).toMatch(/^bundle .*\/dist\/cli\/main-\w+\.js$/);
  });

  it('is not used once a source differs, even by one byte of the same size: the sources run through tsx', () => {
    const file = join(root, 'runner', 'version.ts');
    const source = readFileSync(file, 'utf8');
    const edited = source.replace(/[a-z]/, (letter) => letter.toUpperCase());
    expect(edited.length).toBe(source.length);
    writeFileSync(file, edited);
    expect(state(root)).toEqual({ stale: 'runner/version.ts changed since the bundle was built' });
    const run = version(cli);
    expect(run.loader).toBe('tsx (runner/version.ts changed since the bundle was built)');
    expect(run.code).toBe(0);
    // a rig timing the bundle must never time tsx under its name
    const strict = version(cli, { RIGOR_LOADER: 'bundle' });
    expect(strict.code).toBe(2);
    expect(strict.loader).toBe('rigor: RIGOR_LOADER=bundle, but the bundle cannot be used: runner/version.ts changed since the bundle was built; npm run build makes it\n');
    writeFileSync(file, source);
  });

  it('is not used once a source grows, or a file it was built from is gone', () => {
    const file = join(root, 'runner', 'cli', 'main.ts');
    const source = readFileSync(file, 'utf8');
    appendFileSync(file, '// edited\n');
    expect(version(cli).loader).toBe('tsx (runner/cli/main.ts changed since the bundle was built)');
    writeFileSync(file, source);
    expect(version(cli).loader).toMatch(/^bundle /);
    rmSync(join(root, 'runner', 'version.ts'));
    expect(state(root)).toEqual({ stale: 'runner/version.ts is gone since the bundle was built' });
  });

  it('is rebuilt by npm run build, and then used again', async () => {
    writeFileSync(join(root, 'runner', 'version.ts'), readFileSync(join(REPO, 'runner', 'version.ts')));
    appendFileSync(join(root, 'runner', 'cli', 'main.ts'), '// edited\n');
    expect(state(root)).toHaveProperty('stale');
    const { entry } = await build(root);
    expect(state(root)).toEqual({ entry });
    expect(version(cli).loader).toBe(`bundle ${entry}`);
  }, 120_000);
});
