/** An artifact validation refuses at write time: a message (no stack trace), nothing in results/, and the samples kept. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeArtifactOrRecover } from '../../../runner/artifact/recovery.ts';
import { InvalidArtifactError } from '../../../runner/artifact/validate.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const root = mkdtempSync(join(tmpdir(), 'rigor-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeArtifactOrRecover', () => {
  it('keeps the samples of an artifact validation refuses in <name>.invalid.json and says where, writing nothing to results', () => {
    const artifact = buildArtifact({ rig: 'neg', cells: [{ params: { a: 1 }, samples: { time_ms: [1, 2, 3] } }] });
    // A workload that reported a negative duration: the schema's rig says ms, which is never negative.
    artifact.cells[0]!.metrics.time_ms!.samples[1] = -0.5;
    const results = join(root, 'results', 'neg');
    const printed: string[] = [];
    let error: unknown;
    try {
      writeArtifactOrRecover(artifact, results, { env: { XDG_STATE_HOME: join(root, 'state') }, lastResort: (text) => printed.push(text) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArtifactError);
    const message = (error as Error).message;
    expect(message).toContain('/cells/0/metrics/time_ms/samples/1: expected a number >= 0, a duration (ms); found -0.5');
    const dir = join(root, 'state', 'rigor', 'recovery', 'neg');
    const [saved] = readdirSync(dir);
    expect(saved).toMatch(/\.invalid\.json$/);
    expect(message).toContain(`The measured samples are saved, as measured, in ${join(dir, saved!)}`);
    expect(JSON.parse(readFileSync(join(dir, saved!), 'utf8')).cells[0].metrics.time_ms.samples).toEqual([1, -0.5, 3]);
    expect(existsSync(results) ? readdirSync(results) : []).toEqual([]);
    expect(printed).toEqual([]);
  });
});
