/**
 * Fuzzing the artifact reader and validator (readArtifact, as `rigor validate`
 * uses it): 10,000 generated files from the good fixture and the smaller
 * committed artifacts, mutated as data (a value replaced, removed, renamed,
 * retyped) and as text, the bad fixtures, and garbage. Properties: a valid
 * artifact, or an InputError whose message starts with the file and says
 * where (a JSON pointer) and what was wrong; nothing else escapes. Seeds
 * fixed; a sample also goes through the real CLI in
 * test/runner/cli/commands/validate.fuzz.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { readArtifact } from '../../../runner/artifact/read.ts';
import { MAX_ARTIFACT_READ_BYTES } from '../../../runner/artifact/size.ts';
import { REPO } from '../../helpers/cli.ts';
import { garbageText, mutatedData, mutatedText } from '../../helpers/fuzz.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-fuzz-artifact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const artifactFiles = (folder: string) => readdirSync(join(REPO, folder)).filter((f) => f.endsWith('.json')).map((f) => join(REPO, folder, f));
/** The good fixture and committed artifacts under 8 kB: mutating a 2 MB artifact 10,000 times would take minutes. */
const SMALL = [
  ...artifactFiles('test/fixtures/artifacts/good'),
  ...readdirSync(join(REPO, 'results')).flatMap((rig) => artifactFiles(`results/${rig}`)),
].filter((path) => statSync(path).size < 8000);
const SEEDS = SMALL.map((path) => JSON.parse(readFileSync(path, 'utf8')) as unknown);
const TEXTS = [...SMALL, ...artifactFiles('test/fixtures/artifacts/bad')].map((path) => readFileSync(path, 'utf8'));

const FILE = join(dir, 'case.json');

function readOrRefuse(text: string): 'valid' | 'refused' {
  writeFileSync(FILE, text);
  try {
    readArtifact(FILE);
    return 'valid';
  } catch (error) {
    if (!(error instanceof InputError)) throw new Error(`not an InputError: ${String(error)}\n--- input ---\n${text.slice(0, 2000)}`);
    if (!error.message.startsWith(`${FILE}: `)) throw new Error(`the file is not named first: ${error.message}`);
    if (!/not valid JSON|at \/|at \(top level\)|cannot read/.test(error.message)) throw new Error(`says neither where nor what: ${error.message}`);
    return 'refused';
  }
}

describe('fuzzing the artifact reader and validator', () => {
  it('5,000 data mutations of valid artifacts (seed 16031), 3,000 text mutations (seed 16032), 2,000 garbage files (seed 16033)', () => {
    expect(SEEDS.length).toBeGreaterThan(0);
    const counts = { valid: 0, refused: 0 };
    fc.assert(fc.property(mutatedData(SEEDS), (data) => void counts[readOrRefuse(JSON.stringify(data, null, 1))]++), { seed: 16031, numRuns: 5000 });
    fc.assert(fc.property(mutatedText(TEXTS), (text) => void counts[readOrRefuse(text)]++), { seed: 16032, numRuns: 3000 });
    fc.assert(fc.property(garbageText, (text) => void counts[readOrRefuse(text)]++), { seed: 16033, numRuns: 2000 });
    expect(counts.valid).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(5000);
  });

  it('a JSON nested 1,000,000 deep, a file over the read limit, a FIFO and a directory are refused with the file named', () => {
    expect(readOrRefuse('['.repeat(1_000_000) + ']'.repeat(1_000_000))).toBe('refused');
    // a sparse file: its size is what is refused, before a byte of it is read
    const big = join(dir, 'big.json');
    writeFileSync(big, '');
    const fd = openSync(big, 'r+');
    ftruncateSync(fd, MAX_ARTIFACT_READ_BYTES + 1);
    closeSync(fd);
    expect(() => readArtifact(big)).toThrow(`${big}: cannot read artifact: expected an artifact of at most 64 MB, found 64 MB (64000001 bytes)`);
    const fifo = join(dir, 'fifo.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => readArtifact(fifo)).toThrow(`${fifo}: cannot read artifact: expected an artifact (a regular file), found a FIFO`);
    const folder = join(dir, 'folder.json');
    mkdirSync(folder);
    expect(() => readArtifact(folder)).toThrow(`${folder}: cannot read artifact: expected an artifact (a regular file), found a directory`);
  });
});
