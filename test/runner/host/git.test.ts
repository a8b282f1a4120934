import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGit, MAX_DIRTY_PATHS, parsePorcelain, SHIPPED_SOURCE } from '../../../runner/host/git.ts';

let dir: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=rigor', '-c', 'user.email=rigor@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rigor-git-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('collectGit', () => {
  it('outside a repository: no commit, no branch, not dirty', () => {
    expect(collectGit(dir)).toEqual({ commit: null, branch: null, dirty: false, dirty_paths: [] });
  });

  it('before the first commit: unborn branch, files dirty', () => {
    git('init', '-q', '-b', 'trunk');
    writeFileSync(path.join(dir, 'a.txt'), 'a\n');
    expect(collectGit(dir)).toEqual({ commit: null, branch: 'trunk', dirty: true, dirty_paths: ['a.txt'] });
  });

  it('clean after a commit, dirty with the changed path after an edit', () => {
    git('init', '-q', '-b', 'trunk');
    writeFileSync(path.join(dir, 'a.txt'), 'a\n');
    writeFileSync(path.join(dir, 'b.txt'), 'b\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    const head = git('rev-parse', 'HEAD').trim();
    expect(collectGit(dir)).toEqual({ commit: head, branch: 'trunk', dirty: false, dirty_paths: [] });

    writeFileSync(path.join(dir, 'a.txt'), 'changed\n');
    expect(collectGit(dir)).toMatchObject({ commit: head, dirty: true, dirty_paths: ['a.txt'] });

    git('add', 'a.txt');
    renameSync(path.join(dir, 'b.txt'), path.join(dir, 'c d.txt'));
    git('add', '-A');
    expect(collectGit(dir).dirty_paths.sort()).toEqual(['a.txt', 'c d.txt']);
  });

  it('detached HEAD has no branch', () => {
    git('init', '-q', '-b', 'trunk');
    git('commit', '-q', '--allow-empty', '-m', 'first');
    git('checkout', '-q', '--detach');
    expect(collectGit(dir).branch).toBeNull();
  });

  it(`caps dirty_paths at ${MAX_DIRTY_PATHS} and says how many were left out`, () => {
    git('init', '-q');
    for (let i = 0; i < MAX_DIRTY_PATHS + 5; i++) writeFileSync(path.join(dir, `f${i}`), '');
    const state = collectGit(dir);
    expect(state.dirty_paths).toHaveLength(MAX_DIRTY_PATHS + 1);
    expect(state.dirty_paths.at(-1)).toBe('(+5 more paths not listed)');
  });
});

describe('parsePorcelain', () => {
  it('takes the new path of a rename and skips the old one', () => {
    expect(parsePorcelain('R  new name\0old name\0 M x\0?? y/\0')).toEqual(['new name', 'x', 'y/']);
  });
});

describe('collectGit in a tree a fleet run unpacked', () => {
  it('reads the commit and the changes applied on top from .rigor-source.json, and ignores one that is not a GitState', () => {
    const tree = mkdtempSync(path.join(os.tmpdir(), 'rigor-test-shipped-'));
    writeFileSync(path.join(tree, SHIPPED_SOURCE), JSON.stringify({ commit: 'c'.repeat(40), branch: 'main', dirty: true, dirty_paths: ['a.ts'] }));
    expect(collectGit(tree)).toEqual({ commit: 'c'.repeat(40), branch: 'main', dirty: true, dirty_paths: ['a.ts'] });
    writeFileSync(path.join(tree, SHIPPED_SOURCE), JSON.stringify({ commit: 7 }));
    expect(collectGit(tree)).toEqual({ commit: null, branch: null, dirty: false, dirty_paths: [] });
    rmSync(tree, { recursive: true });
  });
});
