/**
 * `rigor compare` and `rigor gate` on the same pair of artifacts, through the
 * real CLI: the same ratio, CI and p, the same verdict word (better, worse,
 * same and why), the noise threshold below which both say same, the digits
 * that show a bound crossed, and a rig name that skips an interrupted run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricDef } from '../../../../runner/rig/schema.ts';
import { buildArtifact, lognormalSamples, writeArtifactFile } from '../../../helpers/artifact-builder.ts';
import { rigor } from '../../../helpers/cli.ts';

const TIME: MetricDef = { unit: 'ms', better: 'lower', clock: 'spawn() called -> child exited' };
const SPEED: MetricDef = { unit: 'MiB/s', better: 'higher', clock: 'first byte read -> last byte written' };

/** results/gz/ with a baseline and a candidate whose samples are the baseline's times `factor`. */
function pair(factor: number, opts: { metric?: MetricDef; noise?: number; maxRatio?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-verdicts-'));
  const metric = { ...(opts.metric ?? TIME), ...(opts.noise !== undefined && { noise: opts.noise }) };
  const base = lognormalSamples(30, 10, 0.02, 7);
  const make = (samples: number[], day: number) =>
    buildArtifact({
      rig: 'gz',
      metrics: { value: metric },
      gates: [{ metric: 'value', stat: 'median', max_ratio: opts.maxRatio ?? 1.2 }],
      startedAt: `2025-01-0${day}T00:00:00.000Z`,
      cells: [{ params: { level: 1 }, samples: { value: samples } }],
    });
  const a = writeArtifactFile(dir, make(base, 1));
  const b = writeArtifactFile(dir, make(base.map((x) => x * factor), 2));
  return { dir, a, b };
}

function both(p: { a: string; b: string }) {
  const compareJson = JSON.parse(rigor(['compare', p.a, p.b, '--json']).stdout);
  const compareText = rigor(['compare', p.a, p.b]).stdout;
  const gate = rigor(['gate', p.b, '--baseline', p.a, '--json', '--no-strict']);
  const gateJson = JSON.parse(gate.stdout);
  const row = compareText.split('\n').find((line) => line.startsWith('level=1'))!;
  return { row: compareJson.rows[0], rowText: row, result: gateJson.results[0], gateCode: gate.code };
}

describe('compare and gate on one pair', () => {
  it('show the same ratio, CI, p and verdict word for a clear slowdown', () => {
    const { row, rowText, result, gateCode } = both(pair(1.3));
    expect(gateCode).toBe(1);
    expect(row).toMatchObject({ stat: 'median', verdict: 'worse', reason: null });
    expect(result).toMatchObject({ stat: 'median', verdict: 'fail', ratio: row.ratio, ratio_ci95: row.ratio_ci95, p_value: row.p_value });
    expect(rowText).toMatch(/\s1\.30× \[1\.\d\d–1\.\d\d\]\s+<0\.0001\s+worse$/);
    expect(result.detail).toMatch(/: 1\.30× \[1\.\d\d–1\.\d\d\], p < 0\.0001 \(Mann-Whitney U\) → worse; 1\.30× > 1\.2× → regression$/);
  });

  it('say the same for a higher-is-better metric: B/A in both texts, the gate storing its worsening factor', () => {
    const { row, rowText, result } = both(pair(0.5, { metric: SPEED }));
    expect(row).toMatchObject({ verdict: 'worse', ratio: 0.5 });
    expect(result).toMatchObject({ verdict: 'fail', ratio: 2, p_value: row.p_value });
    expect(rowText).toMatch(/\s0\.50× \[0\.\d\d–0\.\d\d\]\s+<0\.0001\s+worse$/);
    expect(result.detail).toMatch(/: 0\.50× \[0\.\d\d–0\.\d\d\], p < 0\.0001 \(Mann-Whitney U\) → worse; worsening 2\.00× > 1\.2× → regression$/);
  });

  it('call an unchanged re-run 1.5% faster `same` in both: significant, but within the 2% noise threshold', () => {
    const { row, rowText, result } = both(pair(0.985));
    expect(row.p_value).toBeLessThan(0.05);
    expect(row).toMatchObject({ verdict: 'same', reason: 'within noise', noise: 0.02 });
    expect(result).toMatchObject({ verdict: 'pass', p_value: row.p_value, ratio: row.ratio });
    expect(rowText).toMatch(/\s0\.99× \[.*\]\s+\S+\s+same \(within ±2% noise\)$/);
    expect(result.detail).toMatch(/: 0\.99× \[.*\], p = \S+ \(Mann-Whitney U\) → same \(within ±2% noise\) → pass$/);
  });

  it('follow the rig: with metrics.<m>.noise 0.01 the same 1.5% is a change in both', () => {
    const { row, rowText, result } = both(pair(0.985, { noise: 0.01 }));
    expect(row).toMatchObject({ verdict: 'better', noise: 0.01 });
    expect(rowText).toMatch(/\s0\.985× \[.*\]\s+\S+\s+better$/);
    expect(result.detail).toMatch(/→ better → pass$/);
    // and both name the threshold they used
    const strict = pair(1.3, { noise: 0.01 });
    expect(rigor(['compare', strict.a, strict.b]).stdout).toContain("noise threshold (±1%)");
  });

  it('call a change that is not significant `same (p ≥ 0.05)` in both, never "improved"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-verdicts-noisy-'));
    const make = (median: number, seed: number, day: number) =>
      buildArtifact({
        rig: 'gz',
        metrics: { value: TIME },
        gates: [{ metric: 'value', stat: 'median', max_ratio: 1.2 }],
        startedAt: `2025-01-0${day}T00:00:00.000Z`,
        cells: [{ params: { level: 1 }, samples: { value: lognormalSamples(10, median, 0.3, seed) } }],
      });
    const { row, rowText, result } = both({ a: writeArtifactFile(dir, make(10, 1, 1)), b: writeArtifactFile(dir, make(9.5, 2, 2)) });
    expect(row).toMatchObject({ verdict: 'same', reason: 'not significant' });
    expect(rowText).toMatch(/same \(p ≥ 0\.05\)$/);
    expect(result.detail).toMatch(/→ same \(p ≥ 0\.05\) → pass$/);
    expect(result.detail).not.toContain('improved');
  });
});

describe('a bound crossed by a hair', () => {
  it('prints the digits that show 1.2004× > 1.2× fails', () => {
    const { rowText, result } = both(pair(1.2004));
    expect(result.verdict).toBe('fail');
    expect(result.detail).toMatch(/: 1\.2004× \[.*\], p < 0\.0001 \(Mann-Whitney U\) → worse; 1\.2004× > 1\.2× → regression$/);
    expect(rowText).toMatch(/\s1\.20× \[/);
  });

  it('and that 1.1996× ≤ 1.2× passes, though it is worse', () => {
    const close = pair(1.1996);
    const { result } = both(close);
    expect(result.verdict).toBe('pass');
    expect(result.detail).toMatch(/→ worse; 1\.1996× ≤ 1\.2× → pass$/);
    const markdown = rigor(['gate', close.b, '--baseline', close.a, '--markdown', '--no-strict']).stdout;
    expect(markdown).toMatch(/\| 1\.1996× \(1\.\d\d–1\.\d\d\) \|/);
  });
});

describe('a rig name and an interrupted newest run', () => {
  it('is skipped by compare and gate alike, each saying which file and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-verdicts-interrupted-'));
    const make = (day: number, status: 'complete' | 'interrupted') =>
      buildArtifact({
        rig: 'gz',
        status,
        gates: [{ metric: 'time_ms', stat: 'median', max_ratio: 1.2 }],
        startedAt: `2025-01-0${day}T00:00:00.000Z`,
        cells: [{ params: { level: 1 }, samples: { time_ms: lognormalSamples(20, 10, 0.02, day) } }],
      });
    const older = writeArtifactFile(join(dir, 'results'), make(1, 'complete'));
    const newer = writeArtifactFile(join(dir, 'results'), make(2, 'complete'));
    const interrupted = writeArtifactFile(join(dir, 'results'), make(3, 'interrupted'));
    const shown = (path: string) => path.slice(dir.length + 1);

    const gate = rigor(['gate', 'gz', '--baseline', 'gz', '--json', '--no-strict'], { cwd: dir });
    expect(JSON.parse(gate.stdout)).toMatchObject({ candidate: shown(newer), baseline: shown(older) });
    expect(gate.stderr).toContain(`rigor gate: skipped ${shown(interrupted)}: the run was interrupted (name the file, or --include-incomplete, to use it)`);

    const compare = rigor(['compare', 'gz', 'gz', '--json'], { cwd: dir });
    expect(JSON.parse(compare.stdout)).toMatchObject({ a: { label: shown(older) }, b: { label: shown(newer) } });
    expect(compare.stderr).toContain(`rigor compare: skipped ${shown(interrupted)}: the run was interrupted`);

    const asked = rigor(['compare', 'gz', 'gz', '--json', '--include-incomplete'], { cwd: dir });
    expect(JSON.parse(asked.stdout)).toMatchObject({ a: { label: shown(newer) }, b: { label: shown(interrupted) } });
  });
});
