import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveArtifactArgument } from '../../../runner/compare/artifact-argument.ts';
import { InputError } from '../../../base/errors.ts';

describe('resolveArtifactArgument', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-argument-'));
  const rigDir = join(dir, 'startup');
  mkdirSync(rigDir);
  mkdirSync(join(dir, 'empty'));
  const names = ['20250102T000000Z_bbbbbbb_host.json', '20250101T000000Z_aaaaaaa_host.json', '20250103T000000Z_ccccccc_host.json'];
  for (const name of names) writeFileSync(join(rigDir, name), '{}');
  writeFileSync(join(rigDir, 'notes.txt'), 'not an artifact');

  it('takes an existing file as it is', () => {
    const file = join(rigDir, names[0]!);
    expect(resolveArtifactArgument(file, { resultsDir: dir })).toBe(file);
  });

  it('takes a rig name as its newest artifact (lexical order of the stamped names)', () => {
    expect(resolveArtifactArgument('startup', { resultsDir: dir })).toBe(join(rigDir, '20250103T000000Z_ccccccc_host.json'));
  });

  it('skips the excluded file, so a rig name as baseline means the run before the candidate', () => {
    const newest = resolveArtifactArgument('startup', { resultsDir: dir });
    expect(resolveArtifactArgument('startup', { resultsDir: dir, exclude: newest })).toBe(join(rigDir, '20250102T000000Z_bbbbbbb_host.json'));
  });

  it('refuses what is neither a file nor a rig with results', () => {
    expect(() => resolveArtifactArgument('nope.json', { resultsDir: dir })).toThrow(InputError);
    expect(() => resolveArtifactArgument('nope', { resultsDir: dir })).toThrow(/nope: expected an artifact file or a rig name with results in .*<rig>\/, found neither/);
    expect(() => resolveArtifactArgument('empty', { resultsDir: dir })).toThrow(/empty: expected an artifact in .*empty\/, found none/);
  });
});
