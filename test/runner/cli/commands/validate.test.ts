/** rigor validate recomputes what readers leave out, the bootstrap intervals, in the same pass as the rest. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readArtifact } from '../../../../runner/artifact/read.ts';
import { validateCommand } from '../../../../runner/cli/commands/validate.ts';
import { buildArtifact, lognormalSamples, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { callCommand } from '../../../helpers/call-command.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function artifactWithMedianCI(edit: (low: number) => number): string {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-validate-'));
  dirs.push(dir);
  const artifact = buildArtifact({ cells: [{ params: { f: 'x' }, samples: { time_ms: lognormalSamples(40, 10, 0.05, 3) } }] });
  const ci = artifact.cells[0]!.metrics.time_ms!.summary!.ci95_median!;
  ci.low = edit(ci.low);
  return writeArtifactFile(dir, artifact);
}

describe('rigor validate', () => {
  it('accepts an artifact whose every stored number, intervals included, agrees with its samples', async () => {
    const path = artifactWithMedianCI((low) => low);
    const result = await callCommand(validateCommand, { files: [path] });
    expect(result.stdout).toMatch(/^ok\s/);
    expect(result.code).toBe(0);
  });

  it('refuses an edited bootstrap interval, which a reader does not recompute', async () => {
    const path = artifactWithMedianCI((low) => low * 0.9);
    expect(() => readArtifact(path)).not.toThrow();
    const result = await callCommand(validateCommand, { files: [path] });
    expect(result.stdout).toContain(`INVALID  ${path}: not a valid rigor artifact:`);
    expect(result.stdout).toMatch(/at \/cells\/0\/metrics\/time_ms\/summary\/ci95_median\/low: stored [\d.]+; recomputed from the samples [\d.]+/);
    expect(result.code).toBe(1);
  });
});
