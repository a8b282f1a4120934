import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { gateCommand } from '../../../../runner/cli/commands/gate.ts';
import { InputError } from '../../../../base/errors.ts';
import { buildArtifact, lognormalSamples, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { callCommand } from '../../../helpers/call-command.ts';
import { rigor } from '../../../helpers/cli.ts';

const REPO = fileURLToPath(new URL('../../../..', import.meta.url));

const GATES = [
  { metric: 'time_ms', stat: 'median' as const, max_ratio: 1.1 },
  { metric: 'time_ms', stat: 'p95' as const, max: 100 },
];

/** results/<rig>/ with a fast baseline run, then a 20% slower candidate run (the newest). */
function resultsDir(): { dir: string; baseline: string; candidate: string; otherHost: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-gate-'));
  const run = (median: number, seed: number, startedAt: string, hostId = 'test-host') =>
    buildArtifact({ rig: 'startup', hostId, gates: GATES, startedAt, cells: [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(30, median, 0.02, seed) } }] });
  const baseline = writeArtifactFile(join(dir, 'results'), run(10, 1, '2025-01-01T00:00:00.000Z'));
  const candidate = writeArtifactFile(join(dir, 'results'), run(12, 2, '2025-01-02T00:00:00.000Z'));
  const otherHost = writeArtifactFile(join(dir, 'elsewhere'), run(10, 3, '2025-01-01T00:00:00.000Z', 'laptop'));
  return { dir, baseline, candidate, otherHost };
}

const gate = (args: Record<string, unknown>) => callCommand(gateCommand, { json: false, markdown: false, ...args });

describe('rigor gate', () => {
  const { baseline, candidate, otherHost } = resultsDir();

  it('exits 0 when every gate passes (relative gates need a baseline, which is not a failure)', async () => {
    const { code, stdout } = await gate({ artifact: candidate });
    expect(code).toBe(0);
    expect(stdout).toContain('needs-baseline');
    expect(stdout).toMatch(/^PASS: 1 pass, 1 needs a baseline\.$/m);
  });

  it('exits 1 on a regression against the baseline', async () => {
    const { code, stdout } = await gate({ artifact: candidate, baseline });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^fail\s+0\s+program=true\s+median time_ms ≤ 1\.1× baseline\s+median 1\d\.\d ms vs \d+\.\d+ ms: 1\.\d\d× worse/m);
    expect(stdout).toMatch(/^FAIL: 1 regression, 1 pass\.$/m);
  });

  it('prints JSON with the results and the exit code', async () => {
    const { code, stdout } = await gate({ artifact: candidate, baseline, json: true });
    const report = JSON.parse(stdout);
    expect(code).toBe(1);
    expect(report).toMatchObject({ rig: 'startup', candidate, baseline, warnings: [], exit_code: 1 });
    expect(report.results.map((r: { verdict: string }) => r.verdict)).toEqual(['fail', 'pass']);
  });

  it('prints markdown, and repeats a host warning on stderr for the log', async () => {
    const { code, stdout, stderr } = await gate({ artifact: candidate, baseline: otherHost, markdown: true });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^## rigor gate `startup`: ❌ 1 regression/);
    expect(stdout).toContain('> ⚠️ **Warning:** artifacts come from different hosts (laptop vs test-host)');
    expect(stderr).toContain('rigor gate: WARNING: artifacts come from different hosts');
  });

  it('refuses a missing file, an invalid artifact and clashing flags (exit 2)', async () => {
    await expect(gate({ artifact: join(tmpdir(), 'no-such-artifact.json') })).rejects.toThrow(
      new InputError(`${join(tmpdir(), 'no-such-artifact.json')}: expected an artifact file or a rig name with results in results/<rig>/, found neither`),
    );
    const invalid = join(mkdtempSync(join(tmpdir(), 'rigor-invalid-')), 'bad.json');
    writeFileSync(invalid, JSON.stringify({ schema: 'urn:rigor:artifact:v1' }));
    await expect(gate({ artifact: invalid })).rejects.toThrow(/bad\.json: not a valid rigor artifact/);
    await expect(gate({ artifact: candidate, json: true, markdown: true })).rejects.toThrow(InputError);
  });
});

// The real binary, for exit codes through yargs and main(): needs gateCommand and
// compareCommand registered in runner/cli/commands/index.ts (and every other verb loading).
describe('bin/rigor.js gate and compare as subprocesses', () => {
  const { dir } = resultsDir();
  const bin = join(REPO, 'bin/rigor.js');
  const run = (args: string[]) => execa('node', [bin, ...args], { cwd: dir, reject: false });

  it('gates the newest run of a rig against the run before it: exit 1', async () => {
    const result = await run(['gate', 'startup', '--baseline', 'startup']);
    expect(result.stdout).toContain('→ regression');
    expect(result.exitCode).toBe(1);
  });

  it('exits 0 without a baseline and 2 for an unknown rig', async () => {
    expect((await run(['gate', 'startup'])).exitCode).toBe(0);
    const unknown = await run(['gate', 'no-such-rig']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no-such-rig: expected an artifact file or a rig name');
  });

  it('compares two runs of a rig by name: exit 0', async () => {
    const result = await run(['compare', 'startup', 'startup']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('worse');
  });
});

describe('rigor gate on host fingerprints (the real CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-gate-hosts-'));
  const run = (median: number, seed: number, startedAt: string, spec: { microcode?: string; withoutFingerprint?: boolean } = {}) =>
    writeArtifactFile(
      dir,
      buildArtifact({
        rig: 'startup',
        gates: GATES,
        startedAt,
        ...(spec.microcode && { fingerprint: { microcode: spec.microcode } }),
        ...(spec.withoutFingerprint && { withoutFingerprint: true }),
        cells: [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(30, median, 0.02, seed) } }],
      }),
    );
  const baseline = run(10, 1, '2025-01-01T00:00:00.000Z', { microcode: '0x2b000590' });
  const older = run(10, 3, '2025-01-01T12:00:00.000Z', { withoutFingerprint: true });
  const candidate = run(10, 2, '2025-01-02T00:00:00.000Z', { microcode: '0x2b000603' });

  it('says in the warning and in each relative detail that the baseline ran on another fingerprint of the same host id', () => {
    const result = rigor(['gate', candidate, '--baseline', baseline, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.warnings[0]).toMatch(/^hosts differ in microcode \(0x2b000590 vs 0x2b000603\), though both artifacts name host test-host/);
    expect(report.results[0].detail).toMatch(/; baseline from another host \(same host id test-host, different microcode\)$/);
    expect(result.stderr).toContain('rigor gate: WARNING: hosts differ in microcode (0x2b000590 vs 0x2b000603)');
    const text = rigor(['gate', candidate, '--baseline', baseline]);
    expect(text.stdout).toContain('!! WARNING: hosts differ in microcode (0x2b000590 vs 0x2b000603)');
  });

  it('against an older baseline without a fingerprint: warns that it cannot be compared, and claims no other host', () => {
    const report = JSON.parse(rigor(['gate', candidate, '--baseline', older, '--json']).stdout);
    expect(report.warnings[0]).toMatch(/^the host fingerprint cannot be compared: baseline is an older artifact without a host fingerprint/);
    expect(report.results[0].detail).not.toContain('another host');
  });
});
