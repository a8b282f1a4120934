/**
 * Fuzzing hyperfine import (parseHyperfineExport, artifactFromHyperfine):
 * 10,000 generated exports, a valid one mutated as data (a value replaced,
 * removed, renamed, retyped), results with colliding or hostile commands and
 * parameters, and garbage JSON. Properties: an InputError naming the file, or
 * an artifact that passes validation with distinct, printable cell ids.
 * Seed fixed; the cases found are regressions in from-hyperfine.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { hasUnprintable } from '../../../base/printable.ts';
import { assertValidArtifact } from '../../../runner/artifact/validate.ts';
import { artifactFromHyperfine, parseHyperfineExport, type ImportContext } from '../../../runner/export/from-hyperfine.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';
import { mutatedData, oddValue, TRICKY_TOKENS } from '../../helpers/fuzz.ts';

const FILE = 'fuzz/hyperfine.json';
const RESULT = { command: 'sleep 0.1', mean: 0.1, stddev: 0.001, median: 0.1, user: 0.0006, system: 0.0003, min: 0.09, max: 0.11, times: [0.09, 0.1, 0.11], exit_codes: [0, 0, 0] };
const SEED = { results: [RESULT, { ...RESULT, command: 'sleep 0.2', parameters: { t: '0.2' }, memory_usage_byte: [1, 2, 3] }] };
const TEMPLATE = buildArtifact({ cells: [] });
const CTX: ImportContext = { file: FILE, sha256: 'a'.repeat(64), rig: 'imported-hyperfine', measuredAt: '2025-05-01T10:00:00.000Z', runId: 'run-1', commandLine: ['rigor'], host: TEMPLATE.host, git: TEMPLATE.git };

const piece = fc.oneof(fc.constantFrom(...TRICKY_TOKENS, ',', '=', 'a', 'b=c', 'a,b=c'), fc.string({ unit: 'binary', maxLength: 6 }));
const text = fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
/** Results whose commands and parameters are built from , = and control characters, so ids collide unless quoted. */
const collidingExport = fc.array(fc.record({ command: text, parameters: fc.option(fc.dictionary(text, text, { maxKeys: 2 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 }).map((results) => ({
  results: results.map(({ command, parameters }) => ({ ...RESULT, command, ...(parameters ? { parameters } : {}) })),
}));
const input = fc.oneof(mutatedData([SEED]), collidingExport, oddValue, fc.record({ results: fc.array(fc.oneof(oddValue, fc.dictionary(fc.constantFrom('command', 'times', 'user', 'system', 'exit_codes', 'parameters', 'memory_usage_byte'), oddValue)), { maxLength: 3 }) }));

describe('fuzzing hyperfine import', () => {
  it('10,000 generated exports (seed 16021): an InputError naming the file, or a valid artifact with distinct printable cell ids', () => {
    const counts = { imported: 0, refused: 0 };
    fc.assert(
      fc.property(input, (data) => {
        let results;
        try {
          results = parseHyperfineExport(data, FILE);
        } catch (error) {
          if (!(error instanceof InputError)) throw new Error(`not an InputError: ${String(error)} for ${JSON.stringify(data)}`);
          if (!error.message.startsWith(`${FILE}: `) || hasUnprintable(error.message)) throw new Error(`unnamed or unprintable: ${JSON.stringify(error.message)}`);
          counts.refused++;
          return;
        }
        const artifact = artifactFromHyperfine(results, CTX);
        assertValidArtifact(artifact, 'fuzzed import');
        const ids = artifact.cells.map((cell) => cell.id);
        if (new Set(ids).size !== ids.length || ids.some(hasUnprintable)) throw new Error(`ids collide or are unprintable: ${JSON.stringify(ids)}`);
        counts.imported++;
      }),
      { seed: 16021, numRuns: 10_000 },
    );
    expect(counts.imported).toBeGreaterThan(1000);
    expect(counts.refused).toBeGreaterThan(1000);
  });
});
