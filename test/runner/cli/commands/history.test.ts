import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { historyCommand } from '../../../../runner/cli/commands/history.ts';
import { InputError } from '../../../../base/errors.ts';
import { buildArtifact, lognormalSamples, writeArtifactFile, type CellSpec } from '../../../helpers/artifact-builder.ts';
import { callCommand } from '../../../helpers/call-command.ts';
import { rigor } from '../../../helpers/cli.ts';

const METRICS = {
  total_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> destroy() returned' },
  ready_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> agent answered' },
};

/** Nine runs of a rig: total_ms of bwrap steps up 30% at the sixth; runc has two runs only. */
function resultsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-history-'));
  for (let k = 0; k < 9; k++) {
    const cells: CellSpec[] = [
      { params: { backend: 'bwrap' }, samples: { total_ms: lognormalSamples(20, k < 5 ? 10 : 13, 0.05, k), ready_ms: lognormalSamples(20, 4, 0.05, 50 + k) } },
      ...(k < 2 ? [{ params: { backend: 'runc' }, samples: { total_ms: lognormalSamples(20, 30, 0.05, 90 + k) } }] : []),
    ];
    const commit = (0xa000 + k).toString(16).padEnd(40, '0');
    // One rig file throughout (runc's cells were skipped after the second run, not removed from the rig).
    const rigSha256 = 'e'.repeat(64);
    writeArtifactFile(dir, buildArtifact({ rig: 'lifecycle', commit, rigSha256, metrics: METRICS, startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(), cells }));
  }
  return dir;
}

const history = (args: Record<string, unknown>) => callCommand(historyCommand, { rig: 'lifecycle', json: false, ...args });

describe('rigor history', () => {
  const dir = resultsDir();

  it('prints each series with its change point marked on the row where the new level starts', async () => {
    const { code, stdout } = await history({ resultsDir: dir, metric: 'total_ms', cell: 'backend=bwrap' });
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((line) => /^a00\w{4}\*/.test(line));
    expect(rows).toHaveLength(9);
    expect(rows[5]).toMatch(/^a005000\*\s+2025-01-06 00:00\s+test-host\s+eeeeeeee\s+1\d\.\d ms\s+\S+–\S+\s+20\s+▲ \+3\d% \(p(=[\d.]+|<0\.0001)\) worse$/);
    expect(rows.filter((row) => row.includes('▲'))).toHaveLength(1);
    expect(stdout).toMatch(/1 change point among 9 points/);
    // commits unknown to this repository's git are placed by time, and the legend says so
    expect(stdout).toMatch(/\* commit not in `git rev-list HEAD`/);
  });

  it('says when a series has too few points to detect anything', async () => {
    const { stdout } = await history({ resultsDir: dir, cell: 'backend=runc' });
    expect(stdout).toMatch(/2 points: too few to detect a change \(at least 5 needed\)/);
  });

  it('prints the history as JSON: series with points and change points', async () => {
    const { stdout } = await history({ resultsDir: dir, json: true });
    const parsed = JSON.parse(stdout);
    expect(parsed.rig).toBe('lifecycle');
    expect(parsed.series.map((s: { cell: string; metric: string }) => `${s.cell} ${s.metric}`)).toEqual([
      'backend=bwrap total_ms',
      'backend=bwrap ready_ms',
      'backend=runc total_ms',
    ]);
    expect(parsed.series[0].change_points).toMatchObject([{ index: 5, before: { n: 5 }, after: { n: 4 } }]);
    expect(parsed.series[1].change_points).toEqual([]);
    expect(parsed.series[0].points[0]).toMatchObject({ samples_path: 'cells[0].metrics.total_ms.samples', placed_by_time: true, n: 20 });
  });

  it('refuses a metric or cell that is not there, listing those that are (exit 2)', async () => {
    await expect(history({ resultsDir: dir, metric: 'rss_mib' })).rejects.toThrow(InputError);
    await expect(history({ resultsDir: dir, metric: 'rss_mib' })).rejects.toThrow('--metric: expected one of total_ms, ready_ms, found "rss_mib"');
    await expect(history({ resultsDir: dir, cell: 'backend=qemu' })).rejects.toThrow(/--cell: expected one of backend=bwrap \| backend=runc/);
    await expect(history({ resultsDir: dir, rig: 'nothing' })).rejects.toThrow(/nothing: expected a directory of artifacts/);
  });

  it('runs as a CLI verb', () => {
    const result = rigor(['history', 'lifecycle', '--results-dir', dir, '--metric', 'ready_ms']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/no change point among 9 points/);
  });
});

describe('rigor history on host fingerprints (the real CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-history-hosts-'));
  for (let k = 0; k < 5; k++) {
    const kernel = k < 3 ? '#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1' : '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1';
    const cells = [{ params: { backend: 'bwrap' }, samples: { total_ms: lognormalSamples(20, 10, 0.05, k) } }];
    writeArtifactFile(
      dir,
      buildArtifact({ rig: 'lifecycle', metrics: { total_ms: METRICS.total_ms }, fingerprint: { kernel_build: kernel }, startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(), cells }),
    );
  }

  it('keeps one series per fingerprint of a host id and warns, naming the field that changed', () => {
    const result = rigor(['history', 'lifecycle', '--results-dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^!! WARNING: host test-host ran with 2 fingerprints, each its own series .*: [0-9a-f]{12} → [0-9a-f]{12} \(from 2025-01-04\) differ in kernel build \(uname -v: #1 SMP PREEMPT_DYNAMIC Debian 6\.1\.115-1 vs #1 SMP PREEMPT_DYNAMIC Debian 6\.1\.119-1\)$/m,
    );
    const headings = result.stdout.split('\n').filter((line) => line.startsWith('backend=bwrap'));
    expect(headings).toHaveLength(2);
    for (const heading of headings) expect(heading).toMatch(/host test-host, fingerprint [0-9a-f]{12}$/);
    const json = JSON.parse(rigor(['history', 'lifecycle', '--results-dir', dir, '--json']).stdout);
    expect(json.series.map((s: { points: unknown[] }) => s.points.length)).toEqual([3, 2]);
    expect(json.warnings).toHaveLength(1);
  });
});

describe('rigor history across an edit of the rig (the real CLI)', () => {
  // Ten runs at one commit from a dirty tree; before the sixth the user edited the rig to compress a larger file.
  const dir = mkdtempSync(join(tmpdir(), 'rigor-history-edit-'));
  const bytes = { out_bytes: { unit: 'bytes', better: 'lower' as const, kind: 'counted' as const, clock: 'bytes gzip wrote' } };
  for (let k = 0; k < 10; k++) {
    const artifact = buildArtifact({
      rig: 'gz',
      commit: 'c9a8630'.padEnd(40, '0'),
      rigSha256: (k < 5 ? '1a2b3c4d' : '5e6f7a8b').padEnd(64, '0'),
      metrics: bytes,
      startedAt: new Date(Date.UTC(2025, 0, 1 + k)).toISOString(),
      cells: [{ params: { level: 6 }, samples: { out_bytes: lognormalSamples(10, k < 5 ? 1_000_000 : 2_000_000, 0.001, k) } }],
    });
    writeArtifactFile(dir, { ...artifact, git: { ...artifact.git, dirty: true, dirty_paths: ['rigs/gz.rig.yaml'] } });
  }

  it('marks the edit on the row where it starts, with both sha256s, and calls no change point across it', () => {
    const result = rigor(['history', 'gz', '--results-dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout.split('\n').filter((line) => line.startsWith('c9a8630+'));
    expect(rows).toHaveLength(10);
    expect(rows.slice(0, 5).every((row) => /\s1a2b3c4d\s/.test(row))).toBe(true);
    expect(rows.slice(5).every((row) => /\s5e6f7a8b\s/.test(row))).toBe(true);
    expect(rows[5]).toMatch(/\s✎ rig edited \(1a2b3c4d → 5e6f7a8b\): 99\d{4} → 200\d{4} bytes \(\+100%\)$/);
    expect(result.stdout).not.toContain('▲');
    expect(result.stdout).toContain(
      'no change point among 10 points (p < 0.001); the rig was edited once (✎): change points are sought between edits, never across one',
    );
    expect(result.stdout).toContain('✎ the rig file changed here: what is measured may have changed with it; a step at an edit is not called better or worse');
  });
});
