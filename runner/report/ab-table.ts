/**
 * The side-by-side table of an A/B artifact: per cell and metric, both sides'
 * medians and the paired per-round ratio with its interval and p-value — the
 * numbers the paired gate judges, shown for every metric whether gated or not.
 */
import type { Artifact } from '../artifact/schema.ts';
import { pairedComparison } from '../gate/paired.ts';
import { formatInterval, formatP, formatRatio, formatValue } from './number.ts';
import { renderTable } from './table.ts';

export function formatAbTable(artifact: Artifact, opts: { maxWidth?: number } = {}): string {
  const ab = artifact.ab;
  if (!ab) return '';
  const side = (label: 'base' | 'head') => {
    const s = ab[label];
    const commit = s.commit ? s.commit.slice(0, 12) : 'no commit';
    return `${label} ${s.ref ?? 'working tree'} (${commit}${s.dirty ? ', uncommitted changes' : ''})`;
  };
  const rounds = artifact.interleave
    ? `${artifact.interleave.rounds_done} of ${artifact.interleave.rounds_planned} rounds, seed ${artifact.interleave.seed}${artifact.interleave.truncated ? ` — ${artifact.interleave.truncated}` : ''}`
    : '';
  const rows: string[][] = [];
  for (const cell of artifact.cells) {
    const base = ab.base_cells.find((c) => c.id === cell.id);
    for (const [metric, result] of Object.entries(cell.metrics)) {
      const other = base?.metrics[metric];
      if (cell.status !== 'ok' || base?.status !== 'ok' || !other || result.samples.length === 0 || other.samples.length === 0) {
        rows.push([cell.id, metric, '—', '—', 'not compared', '', '']);
        continue;
      }
      const side = (m: typeof result) => ({ samples: m.samples, rounds: m.rounds ?? [], ...(m.batch_iterations ? { batch_iterations: m.batch_iterations } : {}) });
      const paired = pairedComparison(side(other), side(result), 'median', result.better);
      if ('reason' in paired) {
        rows.push([cell.id, metric, formatValue(other.summary?.median, result.unit), formatValue(result.summary?.median, result.unit), paired.reason, '', '']);
        continue;
      }
      rows.push([
        cell.id,
        metric,
        formatValue(paired.baseValue, result.unit),
        formatValue(paired.headValue, result.unit),
        `${formatRatio(paired.ratio)} ${formatInterval(paired.ci95)}`,
        formatP(paired.p),
        String(paired.rounds),
      ]);
    }
  }
  const table = renderTable(
    [
      { header: 'cell' },
      { header: 'metric' },
      { header: 'base median', align: 'right' },
      { header: 'head median', align: 'right' },
      { header: 'worse by (95% CI)', align: 'right' },
      { header: 'p', align: 'right' },
      { header: 'rounds', align: 'right' },
    ],
    rows,
    opts,
  );
  return [`A/B: ${side('base')} vs ${side('head')}`, rounds, 'worse by: median over rounds of head/base (base/head when higher is better); p: Wilcoxon signed-rank', '', table]
    .filter((line, i) => line !== '' || i === 3)
    .join('\n');
}
