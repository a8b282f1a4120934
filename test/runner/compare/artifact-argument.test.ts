import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveArtifact, resolveArtifactArgument, skippedNotes } from '../../../runner/compare/artifact-argument.ts';
import { InputError } from '../../../base/errors.ts';
import { buildArtifact, writeArtifactFile } from '../../helpers/artifact-builder.ts';

describe('resolveArtifactArgument', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-argument-'));
  const rigDir = join(dir, 'startup');
  mkdirSync(rigDir);
  mkdirSync(join(dir, 'empty'));
  const names = ['20250102T000000Z_bbbbbbb_host.json', '20250101T000000Z_aaaaaaa_host.json', '20250103T000000Z_ccccccc_host.json'];
  const cells = [{ params: { program: 'true' }, samples: { time_ms: [1, 2, 3] } }];
  for (const name of names) {
    const day = name.slice(6, 8);
    writeFileSync(join(rigDir, name), JSON.stringify(buildArtifact({ rig: 'startup', startedAt: `2025-01-${day}T00:00:00.000Z`, cells })));
  }
  writeFileSync(join(rigDir, 'notes.txt'), 'not an artifact');

  it('takes an existing file as it is', () => {
    const file = join(rigDir, names[0]!);
    expect(resolveArtifactArgument(file, { resultsDir: dir })).toBe(file);
  });

  it('takes a rig name as its newest artifact', () => {
    expect(resolveArtifactArgument('startup', { resultsDir: dir })).toBe(join(rigDir, '20250103T000000Z_ccccccc_host.json'));
  });

  it('orders by run.started_at, never by file name, and reports and skips a file that does not read', () => {
    const other = mkdtempSync(join(tmpdir(), 'rigor-argument-order-'));
    mkdirSync(join(other, 'startup'));
    // Same second: the run that started first was written second and took the -1 name.
    const first = join(other, 'startup', '20250101T000000Z_aaaaaaa_host-1.json');
    const second = join(other, 'startup', '20250101T000000Z_aaaaaaa_host.json');
    writeFileSync(first, JSON.stringify(buildArtifact({ rig: 'startup', startedAt: '2025-01-01T00:00:00.100Z', cells })));
    writeFileSync(second, JSON.stringify(buildArtifact({ rig: 'startup', startedAt: '2025-01-01T00:00:00.700Z', cells })));
    writeFileSync(join(other, 'startup', '20250105T000000Z_aaaaaaa_host.json'), '{"cells": [');
    expect(resolveArtifact('startup', { resultsDir: other })).toEqual({
      path: second,
      skipped: [],
      problems: [{ path: join(other, 'startup', '20250105T000000Z_aaaaaaa_host.json'), message: 'not valid JSON at byte 11 of 11 (unexpected end of input)' }],
    });
    expect(resolveArtifact('startup', { resultsDir: other, exclude: second }).path).toBe(first);
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

describe('resolveArtifact: a rig name passes over runs that are not whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-argument-incomplete-'));
  const cells = [{ params: { program: 'true' }, samples: { time_ms: [1, 2, 3] } }];
  const at = (day: number) => `2025-01-0${day}T00:00:00.000Z`;
  const complete1 = writeArtifactFile(dir, buildArtifact({ rig: 'gz', iterations: 20, startedAt: at(1), cells }));
  const complete2 = writeArtifactFile(dir, buildArtifact({ rig: 'gz', iterations: 20, startedAt: at(2), cells }));
  const reduced = writeArtifactFile(dir, buildArtifact({ rig: 'gz', iterations: 20, overrides: { iterations: 2 }, startedAt: at(3), cells }));
  const trial = writeArtifactFile(dir, buildArtifact({ rig: 'gz', iterations: 20, trial: true, startedAt: at(4), cells }));
  const interrupted = writeArtifactFile(dir, buildArtifact({ rig: 'gz', iterations: 20, status: 'interrupted', startedAt: at(5), cells }));

  it('takes the newest complete run and lists what it skipped, newest first, with why', () => {
    expect(resolveArtifact('gz', { resultsDir: dir })).toEqual({
      path: complete2,
      skipped: [
        { path: interrupted, reason: 'the run was interrupted' },
        { path: trial, reason: 'a trial run (rigor run --trial)' },
        { path: reduced, reason: "--iterations 2: fewer samples than the rig's 20" },
      ],
      problems: [],
    });
  });

  it('means the complete run before the candidate as a baseline', () => {
    expect(resolveArtifact('gz', { resultsDir: dir, exclude: complete2 }).path).toBe(complete1);
  });

  it('takes the newest whatever it is when asked, and a file named as it is', () => {
    expect(resolveArtifact('gz', { resultsDir: dir, includeIncomplete: true })).toEqual({ path: interrupted, skipped: [], problems: [] });
    expect(resolveArtifact(interrupted, { resultsDir: dir })).toEqual({ path: interrupted, skipped: [], problems: [] });
  });

  it('refuses a rig whose every run is incomplete, naming them and the way out', () => {
    const only = mkdtempSync(join(tmpdir(), 'rigor-argument-only-'));
    const path = writeArtifactFile(only, buildArtifact({ rig: 'gz', status: 'interrupted', cells }));
    expect(() => resolveArtifact('gz', { resultsDir: only })).toThrow(
      new InputError(
        `gz: expected a complete run in ${join(only, 'gz')}/, found only one that is not (${path}: the run was interrupted); name the file, or --include-incomplete to take the newest`,
      ),
    );
  });
});

describe('skippedNotes', () => {
  const skipped = [{ path: 'results/gz/3.json', reason: 'the run was interrupted' }];

  it('offers --include-incomplete only for a verb that has it', () => {
    expect(skippedNotes(skipped, 'gate')).toEqual(['rigor gate: skipped results/gz/3.json: the run was interrupted (name the file, or --include-incomplete, to use it)']);
    expect(skippedNotes(skipped)).toEqual(['rigor: skipped results/gz/3.json: the run was interrupted (name the file to use it)']);
  });
});
