import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

// Not strict unless a test says so: the handler would otherwise read this process's $CI.
const gate = (args: Record<string, unknown>) => callCommand(gateCommand, { json: false, markdown: false, strict: false, ...args });

describe('rigor gate', () => {
  const { baseline, candidate, otherHost } = resultsDir();

  it('exits 0 when not strict and a relative gate needs a baseline, warning that strict mode would fail it', async () => {
    const { code, stdout } = await gate({ artifact: candidate });
    expect(code).toBe(0);
    expect(stdout).toContain('needs-baseline');
    expect(stdout).toContain('!! NOT CHECKED — a warning with --no-strict; --strict or CI would fail it:');
    expect(stdout).toContain('!!  - gate #0 (median time_ms ≤ 1.1× baseline) checked nothing: it compares with a baseline and none was given (--baseline)');
    expect(stdout).toMatch(/^PASS: 1 pass, 1 needs a baseline; 1 not checked \(a warning with --no-strict; --strict or CI would fail it\)\.$/m);
  });

  it('exits 1 when strict and a relative gate needs a baseline', async () => {
    const { code, stdout } = await gate({ artifact: candidate, strict: true });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL: 1 pass, 1 needs a baseline; 1 not checked \(fails with --strict\)\.$/m);
  });

  it('exits 1 on a regression against the baseline', async () => {
    const { code, stdout } = await gate({ artifact: candidate, baseline });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^fail\s+0\s+program=true\s+median time_ms ≤ 1\.1× baseline\s+median 1\d\.\d ms vs \d+\.\d+ ms: 1\.\d\d× \[1\.\d\d–1\.\d\d\], p < 0\.0001 \(Mann-Whitney U\) → worse; 1\.\d\d× > 1\.1× → regression$/m);
    expect(stdout).toMatch(/^FAIL: 1 regression, 1 pass\.$/m);
  });

  it('prints JSON with the results and the exit code', async () => {
    const { code, stdout } = await gate({ artifact: candidate, baseline, json: true });
    const report = JSON.parse(stdout);
    expect(code).toBe(1);
    expect(report).toMatchObject({ rig: 'startup', candidate, baseline, warnings: [], ratio_goals: [], strict: false, unchecked: [], exit_code: 1 });
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
  const run = (args: string[], CI = '') => execa('node', [bin, ...args], { cwd: dir, reject: false, env: { CI } });

  it('gates the newest run of a rig against the run before it: exit 1', async () => {
    const result = await run(['gate', 'startup', '--baseline', 'startup']);
    expect(result.stdout).toContain('→ regression');
    expect(result.exitCode).toBe(1);
  });

  it('exits 0 without a baseline outside CI, 1 in CI, and 2 for an unknown rig', async () => {
    expect((await run(['gate', 'startup'])).exitCode).toBe(0);
    expect((await run(['gate', 'startup'], 'true')).exitCode).toBe(1);
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

// No green check for nothing checked: each case warns outside CI (exit 0) and fails in CI or with --strict (exit 1).
describe('bin/rigor.js gate in strict mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-gate-strict-'));
  const bin = join(REPO, 'bin/rigor.js');
  const run = (args: string[], CI: string) => execa('node', [bin, 'gate', ...args], { cwd: dir, reject: false, env: { CI } });
  const gates = [
    { metric: 'time_ms', stat: 'median' as const, max_ratio: 1.3 },
    { metric: 'time_ms', stat: 'median' as const, max: 1000 },
  ];
  const goal = (max: number) => [
    { name: 'runc_over_bwrap', of: { metric: 'time_ms', where: { backend: 'runc' } }, to: { metric: 'time_ms', where: { backend: 'bwrap' } }, goal: { max } },
  ];
  const docker = { params: { backend: 'docker' }, status: 'skipped' as const, reason: 'backend docker unavailable: docker not on PATH' };
  let seed = 10;
  const cells = (backends = ['bwrap', 'runc']) => [
    ...backends.map((backend) => ({ params: { backend }, samples: { time_ms: lognormalSamples(30, backend === 'runc' ? 20 : 10, 0.02, seed++) } })),
    docker,
  ];
  const write = (name: string, spec: Parameters<typeof buildArtifact>[0]) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(buildArtifact(spec)));
    return path;
  };
  const base = write('base', { gates, ratios: goal(3), cells: cells() });
  const candidate = write('candidate', { gates, ratios: goal(3), cells: cells() });
  const failedBase = write('failed-base', { gates, ratios: goal(3), cells: cells(), status: 'failed' });
  const cases = [
    {
      name: 'a candidate whose every cell was skipped',
      args: [write('all-skipped', { gates, ratios: goal(3), cells: ['bwrap', 'runc'].map((backend) => ({ ...docker, params: { backend } })).concat(docker) }), '--baseline', base],
      reason: 'every cell (3) was skipped or failed: the candidate measured nothing',
    },
    { name: 'no baseline', args: [candidate], reason: 'gate #0 (median time_ms ≤ 1.3× baseline) checked nothing: it compares with a baseline and none was given (--baseline)' },
    {
      name: "a baseline that lacks the candidate's cells",
      args: [candidate, '--baseline', write('bwrap-only', { gates, ratios: goal(3), cells: cells(['bwrap']) })],
      reason: 'gate #0 (median time_ms ≤ 1.3× baseline) did not check backend=runc: cell backend=runc is not in the baseline',
    },
    { name: 'an interrupted candidate', args: [write('interrupted', { gates, ratios: goal(3), cells: cells(), status: 'interrupted' }), '--baseline', base], reason: 'the candidate run was interrupted: its cells are incomplete' },
    { name: 'a failed baseline', args: [candidate, '--baseline', failedBase], reason: 'the baseline run failed: its cells are incomplete' },
    {
      name: 'a missed ratio goal',
      args: [write('goal-missed', { gates, ratios: goal(1.5), cells: cells() }), '--baseline', base],
      reason: 'ratio goal runc_over_bwrap ≤ 1.5× missed: ',
      noun: 'GOAL MISSED',
    },
  ];

  it('passes in CI when every gate judged what it applies to; a cell skipped on this host that no gate names is no failure', async () => {
    const result = await run([candidate, '--baseline', base], 'true');
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).not.toContain('NOT CHECKED');
    expect(result.stdout).toMatch(/^goal\s+ratio goal\s+detail$/m);
    expect(result.stdout).toMatch(/^met\s+runc_over_bwrap ≤ 3×\s+/m);
    expect(result.stdout).toMatch(/^PASS: 4 pass, 2 skipped; ratio goal: 1 met\.$/m);
  });

  it.each(cases)('$name: a loud warning and exit 0 outside CI', async ({ args, reason, noun = 'NOT CHECKED' }) => {
    const result = await run(args, '');
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).toContain(`!! ${noun} — a warning here; --strict or CI would fail it:\n`);
    expect(result.stdout).toContain(`!!  - ${reason}`);
    expect(result.stdout).toMatch(new RegExp(`^PASS: .*; 1 ${noun.toLowerCase()} \\(a warning here; --strict or CI would fail it\\)\\.$`, 'm'));
  });

  it.each(cases)('$name: exit 1 in CI, with the reason', async ({ args, reason, noun = 'NOT CHECKED' }) => {
    const result = await run(args, 'true');
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stdout).toContain(`!! ${noun} — fails because CI=true; --no-strict makes it a warning:\n`);
    expect(result.stdout).toContain(`!!  - ${reason}`);
    expect(result.stdout).toMatch(new RegExp(`^FAIL: .*; 1 ${noun.toLowerCase()} \\(fails because CI=true; --no-strict makes it a warning\\)\\.$`, 'm'));
  });

  it('--strict fails outside CI; --no-strict warns in CI; CI=false is not CI', async () => {
    expect((await run([candidate, '--strict'], '')).exitCode).toBe(1);
    const lenient = await run([candidate, '--no-strict'], 'true');
    expect(lenient.exitCode).toBe(0);
    expect(lenient.stdout).toContain('!! NOT CHECKED — a warning with --no-strict; --strict or CI would fail it:');
    expect((await run([candidate], 'false')).exitCode).toBe(0);
  });

  it('says it in the markdown summary and, for the log, on stderr', async () => {
    const result = await run([candidate, '--markdown'], 'true');
    expect(result.exitCode).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe('## rigor gate `synthetic`: ❌ 1 not checked');
    expect(result.stdout).toContain('❌ **Not checked** — fails because CI=true; --no-strict makes it a warning:\n\n- gate #0 (median time_ms ≤ 1.3× baseline) checked nothing');
    expect(result.stdout).toMatch(/^\| runc_over_bwrap ≤ 3× \| ✅ met \| \d\.\d\d× /m);
    expect(result.stderr).toContain('rigor gate: NOT CHECKED — fails because CI=true; --no-strict makes it a warning: gate #0');
  });

  it('reports what went unchecked and the mode in --json', async () => {
    const result = await run([candidate, '--json'], 'true');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ strict: true, exit_code: 1, unchecked: [{ kind: 'nothing-checked' }] });
    expect(report.ratio_goals).toEqual([expect.objectContaining({ name: 'runc_over_bwrap', max: 3, verdict: 'met' })]);
  });
});

// Issue 16: two runs in one second. The run that started first took longer and was written second, as …-1.json;
// chosen by file name it was the "newest", candidate and baseline swapped, and a 38x regression passed as "0.03x (improved)".
describe('two runs of one rig in the same second: the newest is the one that started last', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-gate-same-second-'));
  const rigDir = join(dir, 'results', 'startup');
  mkdirSync(rigDir, { recursive: true });
  const run = (median: number, seed: number, startedAt: string) =>
    buildArtifact({ rig: 'startup', gates: GATES.slice(0, 1), startedAt, cells: [{ params: { program: 'true' }, samples: { time_ms: lognormalSamples(30, median, 0.02, seed) } }] });
  writeFileSync(join(rigDir, '20250101T000000Z_abcdef0_test-host-1.json'), JSON.stringify(run(1, 1, '2025-01-01T00:00:00.100Z')));
  writeFileSync(join(rigDir, '20250101T000000Z_abcdef0_test-host.json'), JSON.stringify(run(38, 2, '2025-01-01T00:00:00.800Z')));
  const bin = join(REPO, 'bin/rigor.js');
  const cli = (args: string[]) => execa('node', [bin, ...args], { cwd: dir, reject: false, env: { CI: '' } });

  it('gate <rig> --baseline <rig> fails the 38x regression', async () => {
    const result = await cli(['gate', 'startup', '--baseline', 'startup', '--json']);
    const report = JSON.parse(result.stdout);
    expect(report.candidate).toBe('results/startup/20250101T000000Z_abcdef0_test-host.json');
    expect(report.baseline).toBe('results/startup/20250101T000000Z_abcdef0_test-host-1.json');
    expect(report.results[0]).toMatchObject({ verdict: 'fail' });
    expect(result.exitCode).toBe(1);
  });

  it('compare <rig> <rig> calls it worse, B being the run that started last', async () => {
    const result = await cli(['compare', 'startup', 'startup', '--json']);
    const comparison = JSON.parse(result.stdout);
    expect(comparison.b).toMatchObject({ label: 'results/startup/20250101T000000Z_abcdef0_test-host.json', started_at: '2025-01-01T00:00:00.800Z' });
    expect(comparison.rows[0].ratio).toBeGreaterThan(30);
    expect(result.exitCode).toBe(0);
  });
});
