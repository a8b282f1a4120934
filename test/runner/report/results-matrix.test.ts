import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { evaluateGates } from '../../../runner/gate/evaluate.ts';
import { describeCells } from '../../../runner/report/cell-set.ts';
import { formatResultsMatrix, formatSpread, shortReason } from '../../../runner/report/results-matrix.ts';
import { formatResultsTable } from '../../../runner/report/results-table.ts';
import { formatNumber, formatValue } from '../../../runner/report/number.ts';
import { wrapText } from '../../../runner/report/wrap.ts';
import { OUTLIERS_NOT_COUNTED } from '../../../runner/stats/outliers.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

const METRICS = {
  ready_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> agent ready' },
  total_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> destroyed' },
};
const MISSING = 'backend firecracker unavailable: firecracker not on PATH (release binaries: https://example.org/firecracker/releases)';

/** 2 measured backends and 3 skipped ones at 2 concurrencies: 6 cells share one reason. */
function lifecycleLike(): Artifact {
  const cells = [];
  let seed = 1;
  for (const backend of ['process', 'bwrap', 'firecracker', 'docker', 'podman']) {
    for (const concurrency of [1, 4]) {
      const measured = backend === 'process' || backend === 'bwrap';
      cells.push(
        measured
          ? { params: { backend, concurrency }, samples: { ready_ms: lognormalSamples(20, 2, 0.1, seed++), total_ms: lognormalSamples(20, 4, 0.1, seed++) } }
          : { params: { backend, concurrency }, status: 'skipped' as const, reason: MISSING },
      );
    }
  }
  const artifact = buildArtifact({ rig: 'lifecycle', metrics: METRICS, cells, gates: [{ metric: 'total_ms', stat: 'median', max_ratio: 1.3 }] });
  artifact.gates = evaluateGates(artifact.rig.definition.gates, artifact.rig.definition.metrics, artifact);
  return artifact;
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('formatResultsMatrix', () => {
  const artifact = lifecycleLike();
  const out = formatResultsMatrix(artifact, { artifactPath: 'results/lifecycle/new.json', baseline: 'lifecycle' });
  const lines = out.split('\n');

  it('prints one row per cell with the metrics as columns', () => {
    const header = lines.findIndex((line) => /^backend\s+concurrency\s+n\s+ready_ms\s+total_ms$/.test(line));
    expect(header).toBeGreaterThan(0);
    const rows = lines.slice(header + 2, header + 2 + artifact.cells.length);
    expect(rows).toHaveLength(10);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 2).join(' '))).toEqual(
      artifact.cells.map((cell) => `${cell.params.backend} ${cell.params.concurrency}`),
    );
    expect(lines[header + 2 + artifact.cells.length]).toBe('');
    expect(rows[0]).toMatch(/^process\s+1\s+20\s+\d\.\d\d ±\d\.\d\d\s+\d\.\d\d ±\d\.\d\d$/);
  });

  it('says a reason shared by 6 skipped cells once, as a note the rows refer to', () => {
    expect(count(out, 'not on PATH')).toBe(1);
    expect(lines.filter((line) => /^firecracker|^docker|^podman/.test(line))).toEqual(
      expect.arrayContaining([expect.stringMatching(/skipped \[1\] backend firecracker unavailable$/)]),
    );
    expect(count(out, 'skipped [1]')).toBe(6);
    expect(out.replace(/\n {4}/g, ' ')).toContain(`\n[1] ${MISSING}\n`);
  });

  it('sums the gates up per verdict with the command to run next', () => {
    expect(lines).toContain('gates: 6 skipped, 4 need a baseline');
    expect(lines.filter((line) => line.includes('needs a baseline'))).toHaveLength(1);
    expect(out).toMatch(/needs a baseline \(4\)\s+#0 median total_ms ≤ 1\.3× baseline — all 4 measured cells/);
    expect(out).toContain('→ rigor gate results/lifecycle/new.json --baseline lifecycle');
    expect(out).toMatch(/skipped \(6\)\s+#0 median total_ms ≤ 1\.3× baseline — the 6 skipped cells \[1\]$/m);
    expect(out).not.toContain('candidate cell skipped');
  });

  it('says when there is no earlier artifact to gate against', () => {
    const first = formatResultsMatrix(artifact, { artifactPath: 'out/a.json', baseline: null });
    expect(first).toMatch(/→ no earlier lifecycle artifact yet; after the next run:\n\s+→ rigor gate lifecycle --baseline out\/a.json\n/);
  });

  it('lists a failed gate per cell with its detail and how to compare', () => {
    const failing = buildArtifact({
      metrics: METRICS,
      cells: [{ params: { backend: 'process' }, samples: { ready_ms: [5, 6, 7], total_ms: [9, 10, 11] } }],
      gates: [{ metric: 'total_ms', stat: 'median', max: 3 }],
    });
    failing.gates = evaluateGates(failing.rig.definition.gates, failing.rig.definition.metrics, failing);
    const text = formatResultsMatrix(failing, { artifactPath: 'b.json', baseline: 'a.json' });
    expect(text).toMatch(/FAIL \(1\)\s+#0 median total_ms ≤ 3 — the only cell, backend=process/);
    expect(text).toMatch(/backend=process: median 10 ms/);
    expect(text).toContain('rigor compare a.json b.json');
  });

  it('lists the ratio goals with the gates, aligned with them', () => {
    const withGoals = buildArtifact({
      metrics: METRICS,
      cells: [
        { params: { tool: 'bare' }, samples: { ready_ms: [1, 2, 3], total_ms: [2, 2, 2] } },
        { params: { tool: 'ours' }, samples: { ready_ms: [1, 2, 3], total_ms: [5, 5, 5] } },
      ],
      gates: [{ metric: 'total_ms', stat: 'median', max: 100 }],
      ratios: [
        { name: 'ours_over_bare', of: { metric: 'total_ms', where: { tool: 'ours' } }, to: { metric: 'total_ms', where: { tool: 'bare' } }, goal: { max: 1.5 } },
        { name: 'bare_over_ours', of: { metric: 'total_ms', where: { tool: 'bare' } }, to: { metric: 'total_ms', where: { tool: 'ours' } }, goal: { max: 1 } },
      ],
    });
    withGoals.gates = evaluateGates(withGoals.rig.definition.gates, withGoals.rig.definition.metrics, withGoals);
    const text = formatResultsMatrix(withGoals).split('\n');
    const from = text.indexOf('gates: 2 pass; ratio goals: 1 missed, 1 met');
    expect(from, text.join('\n')).toBeGreaterThan(0);
    expect(text.slice(from + 1, from + 4)).toEqual([
      '  pass (2)         #0 median total_ms ≤ 100 — all 2 cells',
      '  goal missed (1)  ours_over_bare ≤ 1.5× — 2.50×',
      '  goal met (1)     bare_over_ours ≤ 1× — 0.40×',
    ]);
  });

  it('splits metrics that do not fit the width into blocks that repeat the cell columns', () => {
    const narrow = formatResultsMatrix(artifact, { maxWidth: 50 }).split('\n');
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(50);
    expect(narrow.filter((line) => /^backend\s+concurrency/.test(line))).toHaveLength(2);
  });

  it('writes n per value when the metrics of a cell differ in n, and a dash for a metric the cell lacks', () => {
    const mixed = buildArtifact({
      metrics: METRICS,
      cells: [
        { params: { tool: 'bare' }, samples: { ready_ms: [1, 2, 3, 4, 5], total_ms: [1, 2, 3] } },
        { params: { tool: 'ours' }, samples: { total_ms: [1, 2, 3] } },
      ],
    });
    const text = formatResultsMatrix(mixed);
    expect(text).toMatch(/^bare\s+5\s+3 ±\d+\s+2 ±\d+ n=3$/m);
    expect(text).toMatch(/^ours\s+3\s+—\s+2 ±\d+$/m);
  });
});

describe('a batched metric (micro-benchmarks)', () => {
  // Batches of 10, 20, 30 calls at 0.2, 0.25, 1/6 ms a call: median 0.2 ms, slope 27/140 ≈ 0.193 ms.
  const batched = buildArtifact({
    metrics: { call_ms: { unit: 'ms', better: 'lower', clock: 'batch started -> its last call returned' } },
    cells: [{ params: { task: 'x' }, samples: { call_ms: [0.2, 0.25, 5 / 30] }, batches: { call_ms: [10, 20, 30] } }],
  });

  it('shows its slope and says so in the legend', () => {
    const out = formatResultsMatrix(batched);
    expect(out).toContain('slope (per-call cost fitted over batches; a sample is a batch) ±95% CI (wider side) in ms');
    expect(out).toMatch(/^x\s+3\s+0\.193 ±0\.\d+$/m);
  });

  it('--verbose shows the slope and its CI, and names it beside the metric', () => {
    const out = formatResultsTable(batched, { maxWidth: Infinity });
    const slope = batched.cells[0]!.metrics.call_ms!.slope!;
    expect(out).toMatch(new RegExp(`task=x\\s+call_ms \\(slope, r² 0\\.679\\)\\s+3\\s+0\\.193 ms\\s+0\\.2\\d* ms\\s+${slope.ci95!.low.toFixed(2)}–${slope.ci95!.high.toFixed(2)}`));
  });
});

describe('a metric whose rig names statistics (show)', () => {
  const artifact = buildArtifact({
    rig: 'pool-tiers',
    metrics: {
      acquire_ready_ms: { unit: 'ms', better: 'lower', clock: 'acquire() called -> agent answered ping', show: ['mean', 'p95'] },
      exec_ms: METRICS.ready_ms,
    },
    cells: [
      { params: { tier: 'hot', concurrency: 1 }, samples: { acquire_ready_ms: lognormalSamples(20, 10, 0.3, 1), exec_ms: lognormalSamples(20, 2, 0.1, 2) } },
      { params: { tier: 'hot', concurrency: 10 }, samples: { acquire_ready_ms: lognormalSamples(20, 60, 0.3, 3), exec_ms: lognormalSamples(20, 2, 0.1, 4) } },
      { params: { tier: 'durable', concurrency: 1 }, status: 'skipped', reason: 'no snapshots on this backend' },
    ],
  });
  const summaryOf = (cell: number, metric: string) => artifact.cells[cell]!.metrics[metric]!.summary!;

  it('gives each statistic a column named by the metric and the statistic: the mean with its CI, the p95 without one', () => {
    const lines = formatResultsMatrix(artifact).split('\n');
    const header = lines.findIndex((line) => /^tier\s+concurrency\s+n\s+acquire_ready_ms mean\s+acquire_ready_ms p95\s+exec_ms$/.test(line));
    expect(header).toBeGreaterThan(0);
    artifact.cells.slice(0, 2).forEach((_, i) => {
      const s = summaryOf(i, 'acquire_ready_ms');
      const meanSpread = formatSpread(s.mean, Math.max(s.mean - s.ci95_mean!.low, s.ci95_mean!.high - s.mean));
      const exec = summaryOf(i, 'exec_ms');
      const execSpread = formatSpread(exec.median, Math.max(exec.median - exec.ci95_median!.low, exec.ci95_median!.high - exec.median));
      const values = lines[header + 2 + i]!.split(/\s{2,}/).slice(2);
      expect(values).toEqual(['20', `${formatNumber(s.mean)} ±${meanSpread}`, formatNumber(s.p95), `${formatNumber(exec.median)} ±${execSpread}`]);
    });
    expect(lines[header + 4]).toMatch(/^durable\s+1\s+skipped \[1\] no snapshots on this backend$/);
    expect(lines.join(' ')).toContain("median, or the statistic after the metric's name (mean, p95) ±95% CI (wider side) where the statistic has one (median, mean) in ms");
  });

  it('--verbose adds a column for the mean, which it lacked, after p95', () => {
    const lines = formatResultsTable(artifact, { maxWidth: Infinity }).split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^cell\s+metric\s+n\s+median\s+p95\s+mean\s+median 95% CI\s+CV\s+outliers\s+status$/));
    const row = lines.find((line) => line.startsWith('tier=hot,concurrency=10  ') && line.includes('acquire_ready_ms'))!;
    const s = summaryOf(1, 'acquire_ready_ms');
    expect(row.split(/\s{2,}/).slice(2, 6)).toEqual(['20', formatValue(s.median, 'ms'), formatValue(s.p95, 'ms'), formatValue(s.mean, 'ms')]);
  });
});

describe('formatResultsMatrix on the committed artifacts', () => {
  const rigs = readdirSync('results').filter((rig) => readdirSync(join('results', rig)).some((f) => f.endsWith('.json')));
  it.each(rigs)('%s: every line within 120 columns, a row per cell, each reason once', (rig) => {
    const newest = readdirSync(join('results', rig)).filter((f) => f.endsWith('.json')).sort().at(-1)!;
    const artifact = JSON.parse(readFileSync(join('results', rig, newest), 'utf8')) as Artifact;
    const out = formatResultsMatrix(artifact, { artifactPath: join('results', rig, newest), baseline: rig });
    const lines = out.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(120);
    const rule = lines.findIndex((line) => line.startsWith('───'));
    expect(lines.slice(rule + 1).findIndex((line) => line === '')).toBe(artifact.cells.length);
    for (const reason of new Set(artifact.cells.flatMap((cell) => (cell.reason ? [cell.reason] : [])))) {
      expect(count(out.replace(/\n {4}/g, ' '), reason)).toBe(1);
    }
    expect(lines.filter((line) => line.includes('needs a baseline (')).length).toBeLessThanOrEqual(1);
  });

  it('lifecycle: 14 rows instead of 54, no gate line per cell', () => {
    const newest = readdirSync('results/lifecycle').sort().at(-1)!;
    const artifact = JSON.parse(readFileSync(join('results/lifecycle', newest), 'utf8')) as Artifact;
    const out = formatResultsMatrix(artifact);
    expect(out).not.toMatch(/\[backend=/);
    expect(out.split('\n').length).toBeLessThan(50);
  });
});

describe('formatResultsTable (--verbose)', () => {
  it('keeps the full table: a row per cell and metric, every reason and gate result in full', () => {
    const out = formatResultsTable(lifecycleLike(), { maxWidth: Infinity });
    expect(out).toMatch(/cell\s+metric\s+n\s+median\s+p95\s+median 95% CI\s+CV\s+outliers\s+status/);
    expect(count(out, 'backend=process,concurrency=1  ')).toBe(2);
    expect(count(out, 'not on PATH')).toBeGreaterThan(6);
  });

  it('says in both views which dropped-cache cell was not cold, and why', () => {
    const why = "/usr/bin/node is mapped by rigor's own process (pid 10): drop_caches cannot evict the pages a live process maps, so every run found them cached";
    const artifact = buildArtifact({
      rig: 'startup',
      metrics: { wall_ms: METRICS.ready_ms },
      cells: [
        { params: { program: 'node', cache: 'dropped' }, samples: { wall_ms: lognormalSamples(12, 75, 0.05, 1) } },
        { params: { program: 'sh', cache: 'dropped' }, samples: { wall_ms: lognormalSamples(12, 3, 0.05, 2) } },
      ],
    });
    artifact.cells[0]!.facts = { cold: { cold: false, why } };
    artifact.cells[1]!.facts = { cold: { cold: true } };
    const matrix = formatResultsMatrix(artifact, { maxWidth: 400 });
    expect(matrix).toMatch(/node\s+dropped\s+12\s+.*not cold \[1\]/);
    expect(matrix).toContain(`[1] program=node,cache=dropped: not cold: ${why}`);
    expect(count(matrix, 'not cold')).toBe(2);
    const table = formatResultsTable(artifact, { maxWidth: Infinity });
    expect(table.split('\n').filter((line) => line.includes('not cold'))).toEqual([`  program=node,cache=dropped: not cold: ${why}`]);
  });

  it('shows no outlier count below 10 samples, and says why once', () => {
    const artifact = buildArtifact({
      rig: 'tiny',
      metrics: { wall_ms: METRICS.ready_ms },
      cells: [
        { params: { n: 'three' }, samples: { wall_ms: [1, 2, 22.9] } },
        { params: { n: 'ten' }, samples: { wall_ms: [10, 11, 12, 13, 14, 15, 16, 17, 18, 100] } },
      ],
    });
    const rows = formatResultsTable(artifact, { maxWidth: Infinity }).split('\n');
    expect(rows.find((row) => row.startsWith('n=three'))).toMatch(/\s—\s+ok$/);
    expect(rows.find((row) => row.startsWith('n=ten'))).toMatch(/\s1\s+ok$/);
    expect(rows.filter((row) => row.includes('fewer than 10 samples'))).toEqual([`outliers — : ${OUTLIERS_NOT_COUNTED}`]);
  });
});

describe('helpers', () => {
  it('describeCells: all, measured, skipped, then products of axis values', () => {
    const { cells } = lifecycleLike();
    expect(describeCells(cells.map((c) => c.id), cells)).toBe('all 10 cells');
    expect(describeCells(cells.filter((c) => c.status === 'ok').map((c) => c.id), cells)).toBe('all 4 measured cells');
    expect(describeCells(['backend=process,concurrency=1', 'backend=bwrap,concurrency=1'], cells)).toBe('backend=process|bwrap × concurrency=1');
    expect(describeCells(['backend=process,concurrency=1', 'backend=process,concurrency=4', 'backend=bwrap,concurrency=1'], cells)).toBe(
      'backend=process × concurrency=1|4; backend=bwrap × concurrency=1',
    );
  });

  it('shortReason keeps the first clause', () => {
    expect(shortReason(MISSING)).toBe('backend firecracker unavailable');
    expect(shortReason('the run was interrupted before this cell')).toBe('the run was interrupted before this cell');
  });

  it('formatSpread shows the decimals the median shows, more when it would read 0', () => {
    expect(formatSpread(1.18, 0.151)).toBe('0.15');
    expect(formatSpread(536, 46.2)).toBe('46');
    expect(formatSpread(1.12, 0.004)).toBe('0.004');
  });

  it('wrapText folds at spaces with a hanging indent and cuts a word wider than a line', () => {
    expect(wrapText('aa bb cc dd', 8, '[1] ')).toEqual(['[1] aa', '    bb', '    cc', '    dd']);
    expect(wrapText('x'.repeat(12), 8, '  ')).toEqual(['  xxxxxx', '  xxxxxx']);
  });
});
