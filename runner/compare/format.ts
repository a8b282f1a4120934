/** A comparison as an aligned terminal table, warnings first. */
import { formatInterval, formatP, formatRatio, formatValue } from '../report/number.ts';
import { renderTable } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import type { ArtifactLabel, Comparison, ComparisonRow } from './compare.ts';

function describe(which: 'A' | 'B', label: ArtifactLabel): string {
  const commit = label.commit ? label.commit.slice(0, 7) : 'no commit';
  return `${which}: ${label.label}  (rig ${label.rig}, ${commit}, host ${label.host}, ${label.started_at})`;
}

function ratioCell(row: ComparisonRow): string {
  if (row.ratio === null) return '—';
  return row.ratio_ci95 ? `${formatRatio(row.ratio)} [${formatInterval(row.ratio_ci95)}]` : formatRatio(row.ratio);
}

function tally(rows: ComparisonRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.verdict, (counts.get(row.verdict) ?? 0) + 1);
  return [...counts].map(([verdict, count]) => `${count} ${verdict}`).join(', ');
}

export function formatComparison(c: Comparison, opts: { maxWidth?: number } = {}): string {
  const parts: string[] = [];
  if (c.warnings.length > 0) parts.push(renderWarnings(c.warnings, opts), '');
  parts.push(describe('A', c.a), describe('B', c.b), '');
  if (c.rows.length === 0) {
    parts.push('No cell and metric appears in both artifacts.');
    return parts.join('\n');
  }
  const table = renderTable(
    [
      { header: 'cell' },
      { header: 'metric' },
      { header: 'A median', align: 'right' },
      { header: 'B median', align: 'right' },
      { header: 'B/A [95% CI]', align: 'right' },
      { header: 'p', align: 'right' },
      { header: 'verdict' },
    ],
    c.rows.map((row) => [
      row.cell,
      row.metric,
      formatValue(row.a.median, row.unit),
      formatValue(row.b.median, row.unit),
      ratioCell(row),
      formatP(row.p_value),
      row.verdict,
    ]),
    opts,
  );
  parts.push(table, '');
  const notes = c.rows.filter((row) => row.note);
  if (notes.length > 0) {
    parts.push('Notes:', ...notes.map((row) => `  ${row.cell} ${row.metric}: ${row.note}`), '');
  }
  parts.push(
    `${tally(c.rows)}.`,
    `B/A = median(B) / median(A), CI by seeded bootstrap; p: Mann-Whitney U, two-sided, on the raw samples; ` +
      `better/worse needs p < ${c.alpha} (the metric says which direction is better).`,
  );
  return parts.join('\n');
}
