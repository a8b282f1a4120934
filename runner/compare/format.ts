/** A comparison as an aligned terminal table, warnings first. */
import { changeRatioWithCI, verdictText } from '../report/change-words.ts';
import { formatP, formatPercent, formatValue } from '../report/number.ts';
import { renderTable } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import type { ArtifactLabel, Comparison, ComparisonRow } from './compare.ts';

function describe(which: 'A' | 'B', label: ArtifactLabel): string {
  const commit = label.commit ? label.commit.slice(0, 7) : 'no commit';
  return `${which}: ${label.label}  (rig ${label.rig}, ${commit}, host ${label.host}, ${label.started_at})`;
}

/** The verdict as the gate words it too: "same (within ±2% noise)". */
export function rowVerdict(row: ComparisonRow, alpha: number): string {
  if (row.verdict !== 'better' && row.verdict !== 'worse' && row.verdict !== 'same') return row.verdict;
  return verdictText({ change: row.verdict, reason: row.reason, alpha, noise: row.noise, stat: row.stat });
}

function tally(rows: ComparisonRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.verdict, (counts.get(row.verdict) ?? 0) + 1);
  return [...counts].map(([verdict, count]) => `${count} ${verdict}`).join(', ');
}

/** "2%", or "2% (time_ms), 0% (instructions)" when the metrics' thresholds differ. */
function noiseText(rows: ComparisonRow[]): string {
  const byNoise = new Map<number, string[]>();
  for (const row of rows) {
    const metrics = byNoise.get(row.noise) ?? byNoise.set(row.noise, []).get(row.noise)!;
    if (!metrics.includes(row.metric)) metrics.push(row.metric);
  }
  if (byNoise.size === 1) return formatPercent([...byNoise.keys()][0]!);
  return [...byNoise].map(([noise, metrics]) => `${formatPercent(noise)} (${metrics.join(', ')})`).join(', ');
}

/** The legend under the table (and on the site): which statistic, which test, what a verdict needs. */
export function comparisonLegend(c: Pick<Comparison, 'alpha' | 'test' | 'rows'>): string {
  const slopes = c.rows.some((row) => row.stat === 'slope');
  return (
    `B/A = median(B) / median(A)${slopes ? ' (slope(B) / slope(A) for a batched metric, stat slope)' : ''}, CI by seeded bootstrap; ` +
    `p: ${c.test}, two-sided, on the raw samples; better/worse needs p < ${c.alpha}, a change beyond the metric's noise threshold ` +
    `(±${noiseText(c.rows)}), and the median and the test agreeing on its direction; rigor gate judges with the same rule.`
  );
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
      { header: 'stat' },
      { header: 'A', align: 'right' },
      { header: 'B', align: 'right' },
      { header: 'B/A [95% CI]', align: 'right' },
      { header: 'p', align: 'right' },
      { header: 'verdict' },
    ],
    c.rows.map((row) => [
      row.cell,
      row.metric,
      row.stat,
      formatValue(row.a.value, row.unit),
      formatValue(row.b.value, row.unit),
      changeRatioWithCI(row),
      formatP(row.p_value),
      rowVerdict(row, c.alpha),
    ]),
    opts,
  );
  parts.push(table, '');
  const notes = c.rows.filter((row) => row.note);
  if (notes.length > 0) {
    parts.push('Notes:', ...notes.map((row) => `  ${row.cell} ${row.metric}: ${row.note}`), '');
  }
  parts.push(`${tally(c.rows)}.`, comparisonLegend(c));
  return parts.join('\n');
}
