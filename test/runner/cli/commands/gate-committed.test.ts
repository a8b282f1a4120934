/**
 * The committed startup artifact through the real `rigor gate`: against
 * itself it passes; a copy whose samples are all 1.5x slower fails.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restated } from '../../../../runner/artifact/recompute.ts';
import type { Artifact } from '../../../../runner/artifact/schema.ts';
import { rigor } from '../../../helpers/cli.ts';

const committed = readdirSync('results/startup').filter((f) => f.endsWith('.json')).sort();
const newest = join('results/startup', committed.at(-1)!);
const dir = mkdtempSync(join(tmpdir(), 'rigor-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rigor gate on the committed startup artifact', () => {
  it('has one to gate', () => {
    expect(committed.length).toBeGreaterThan(0);
  });

  it('passes against itself (exit 0)', () => {
    const result = rigor(['gate', newest, '--baseline', newest]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PASS/);
  });

  it('fails against a copy whose samples are all 1.5x slower (exit 1), naming the regression', () => {
    const artifact = JSON.parse(readFileSync(newest, 'utf8')) as Artifact;
    for (const cell of artifact.cells) {
      for (const metric of Object.values(cell.metrics)) metric.samples = metric.samples.map((s) => s * 1.5);
    }
    const slower = join(dir, 'slower.json');
    // Restated as a run would store it: an edited artifact whose summaries disagree with its samples is refused.
    writeFileSync(slower, JSON.stringify(restated(artifact)));
    const result = rigor(['gate', slower, '--baseline', newest]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/regression/);
    expect(result.stdout).toMatch(/1\.5\d?×/);
  });

  it('prints a markdown summary for a CI job', () => {
    const result = rigor(['gate', newest, '--baseline', newest, '--markdown']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^#/m);
    expect(result.stdout).toContain('|');
  });

  it('exits 2 for a missing baseline file', () => {
    const result = rigor(['gate', newest, '--baseline', join(dir, 'nope.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nope.json');
  });
});
