import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareCommand } from '../../../../runner/cli/commands/compare.ts';
import { InputError } from '../../../../base/errors.ts';
import { buildArtifact, lognormalSamples, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { callCommand } from '../../../helpers/call-command.ts';
import { rigor } from '../../../helpers/cli.ts';

// The subprocess tests of this verb are in test/gate/gate-command.test.ts.
const compare = (args: Record<string, unknown>) => callCommand(compareCommand, { json: false, alpha: 0.05, ...args });

function twoRuns(): { baseline: string; candidate: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-compare-'));
  const run = (median: number, seed: number, startedAt: string) =>
    buildArtifact({ rig: 'startup', startedAt, cells: [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(30, median, 0.02, seed) } }] });
  return {
    baseline: writeArtifactFile(dir, run(10, 1, '2025-01-01T00:00:00.000Z')),
    candidate: writeArtifactFile(dir, run(12, 2, '2025-01-02T00:00:00.000Z')),
  };
}

describe('rigor compare', () => {
  const { baseline, candidate } = twoRuns();

  it('exits 0 even when B is worse: a comparison is information, not a gate', async () => {
    const { code, stdout } = await compare({ a: baseline, b: candidate });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^program=true\s+time_ms\s+.*worse$/m);
  });

  it('prints the comparison as JSON', async () => {
    const { stdout } = await compare({ a: baseline, b: candidate, json: true, alpha: 0.01 });
    const comparison = JSON.parse(stdout);
    expect(comparison).toMatchObject({ alpha: 0.01, hostsDiffer: false, a: { label: baseline }, b: { label: candidate } });
    expect(comparison.rows[0]).toMatchObject({ cell: 'program=true', metric: 'time_ms', verdict: 'worse' });
  });

  it('refuses a bad path or a bad --alpha (exit 2)', async () => {
    await expect(compare({ a: baseline, b: join(tmpdir(), 'missing.json') })).rejects.toThrow(InputError);
    await expect(compare({ a: baseline, b: candidate, alpha: 2 })).rejects.toThrow('--alpha: expected a number between 0 and 1, found 2');
  });
});


describe('rigor compare on host fingerprints (the real CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-compare-hosts-'));
  const cells = [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(30, 10, 0.02, 1) } }];
  const old = writeArtifactFile(dir, buildArtifact({ rig: 'startup', withoutFingerprint: true, startedAt: '2025-01-01T00:00:00.000Z', cells }));
  const before = writeArtifactFile(dir, buildArtifact({ rig: 'startup', startedAt: '2025-01-02T00:00:00.000Z', cells }));
  const after = writeArtifactFile(
    dir,
    buildArtifact({ rig: 'startup', fingerprint: { microcode: '0x2', kernel_build: '#2 SMP PREEMPT_DYNAMIC' }, startedAt: '2025-01-03T00:00:00.000Z', cells }),
  );

  it('warns when one host id ran with another fingerprint, naming the fields and both values', () => {
    const result = rigor(['compare', before, after]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      '!! WARNING: hosts differ in microcode (0x1 vs 0x2), kernel build (uname -v: #1 SMP vs #2 SMP PREEMPT_DYNAMIC), though both artifacts name host test-host',
    );
    expect(JSON.parse(rigor(['compare', before, after, '--json']).stdout).hostsDiffer).toBe(true);
  });

  it('says the fingerprint cannot be compared with an older artifact, and does not call the hosts equal', () => {
    const result = rigor(['compare', old, before]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('!! WARNING: the host fingerprint cannot be compared: A is an older artifact without a host fingerprint');
    expect(rigor(['compare', before, before]).stdout).not.toContain('WARNING');
  });
});
