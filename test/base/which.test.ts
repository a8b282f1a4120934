import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which, whichOnce } from '../../base/which.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-which-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'bin'));
mkdirSync(join(dir, 'bin', 'subdir'));
writeFileSync(join(dir, 'bin', 'rigor-tool'), '#!/bin/sh\n', { mode: 0o755 });
writeFileSync(join(dir, 'bin', 'rigor-plain'), 'not executable\n', { mode: 0o644 });

describe('which', () => {
  it('finds a name on the PATH given, skipping what is not an executable file', () => {
    expect(which('rigor-tool', { path: `/nonexistent::${join(dir, 'bin')}` })).toBe(join(dir, 'bin', 'rigor-tool'));
    expect(which('rigor-plain', { path: join(dir, 'bin') })).toBeNull();
    expect(which('subdir', { path: join(dir, 'bin') })).toBeNull();
    expect(which('rigor-tool', { path: '/usr/bin' })).toBeNull();
  });

  it('takes relative PATH entries and names with a slash from the cwd given, and answers an absolute path', () => {
    expect(which('rigor-tool', { path: 'bin', cwd: dir })).toBe(join(dir, 'bin', 'rigor-tool'));
    expect(which('./bin/rigor-tool', { cwd: dir })).toBe(join(dir, 'bin', 'rigor-tool'));
    expect(which('sh')).toMatch(/^\/.*\/sh$/);
  });
});

describe('whichOnce', () => {
  it('answers the absolute path which finds, and keeps answering it after the PATH changes', () => {
    const saved = process.env.PATH;
    try {
      process.env.PATH = join(dir, 'bin');
      expect(whichOnce('rigor-tool')).toBe(join(dir, 'bin', 'rigor-tool'));
      process.env.PATH = '/nonexistent';
      expect(whichOnce('rigor-tool')).toBe(join(dir, 'bin', 'rigor-tool'));
    } finally {
      process.env.PATH = saved;
    }
  });

  it('looks a missing name up again on the next call', () => {
    const saved = process.env.PATH;
    try {
      process.env.PATH = '/nonexistent';
      expect(whichOnce('rigor-plain-later')).toBeNull();
      writeFileSync(join(dir, 'bin', 'rigor-plain-later'), '#!/bin/sh\n', { mode: 0o755 });
      process.env.PATH = join(dir, 'bin');
      expect(whichOnce('rigor-plain-later')).toBe(join(dir, 'bin', 'rigor-plain-later'));
    } finally {
      process.env.PATH = saved;
    }
  });
});
