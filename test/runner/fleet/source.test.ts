import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packSource } from '../../../runner/fleet/source.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-test-fleet-source-'));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 't@example.org');
  git(dir, 'config', 'user.name', 't');
  writeFileSync(join(dir, 'a.txt'), 'one\n');
  mkdirSync(join(dir, 'results', 'x'), { recursive: true });
  writeFileSync(join(dir, 'results', 'x', 'old.json'), '{}\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

describe('packSource', () => {
  it('ships HEAD without results/, and a dirty tree as a diff that rebuilds it on the archive, untracked files too, the index untouched', () => {
    const dir = repo();
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    writeFileSync(join(dir, 'new.txt'), 'untracked\n');
    writeFileSync(join(dir, 'results', 'x', 'new.json'), '{}\n');
    const work = mkdtempSync(join(tmpdir(), 'rigor-test-fleet-pack-'));
    const source = packSource(dir, work);
    expect(source.git).toMatchObject({ commit: git(dir, 'rev-parse', 'HEAD').trim(), branch: 'main', dirty: true });
    expect(source.diffSha256).toMatch(/^[0-9a-f]{64}$/);
    // the user's index is as it was: nothing staged
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('');

    const host = mkdtempSync(join(tmpdir(), 'rigor-test-fleet-host-'));
    execFileSync('tar', ['xzf', source.archive, '-C', host]);
    execFileSync('git', ['apply', source.diff!], { cwd: host });
    expect(readFileSync(join(host, 'a.txt'), 'utf8')).toBe('two\n');
    expect(readFileSync(join(host, 'new.txt'), 'utf8')).toBe('untracked\n');
    expect(() => readFileSync(join(host, 'results', 'x', 'old.json'))).toThrow();
  });

  it('sends no diff for a clean tree, and refuses a directory that is no repository', () => {
    const dir = repo();
    const source = packSource(dir, mkdtempSync(join(tmpdir(), 'rigor-test-fleet-pack-')));
    expect(source.diff).toBeNull();
    expect(() => packSource(tmpdir(), mkdtempSync(join(tmpdir(), 'rigor-test-fleet-pack-')))).toThrow('expected a git repository with a commit, found none');
  });
});
