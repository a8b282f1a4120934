/** A rig's ratios from the raw samples of two cells of one artifact (pure). */
import type { CellResult, RatioResult } from '../artifact/schema.ts';
import { cellMatches } from '../rig/matrix.ts';
import type { Ratio } from '../rig/schema.ts';
import { bootstrapRatioCI, median } from '../stats/index.ts';
import { formatInterval, formatRatio, formatValue } from '../report/number.ts';

function side(cells: CellResult[], where: Ratio['of']) {
  const cell = cells.find((candidate) => cellMatches(candidate.params, where.where));
  const metric = cell?.metrics[where.metric];
  const samples = metric?.samples ?? [];
  return {
    result: { cell: cell?.id ?? '(no matching cell)', metric: where.metric, unit: metric?.unit ?? '', median: samples.length ? median(samples) : null },
    samples,
    status: cell ? (cell.status === 'ok' ? null : `${cell.id} ${cell.status}: ${cell.reason ?? ''}`) : 'no matching cell',
  };
}

export function computeRatios(ratios: Ratio[], cells: CellResult[]): RatioResult[] {
  return ratios.map((ratio) => {
    const of = side(cells, ratio.of);
    const to = side(cells, ratio.to);
    const value = of.result.median !== null && to.result.median ? of.result.median / to.result.median : null;
    const ci95 = value === null ? null : bootstrapRatioCI(to.samples, of.samples, 'median');
    const goalMet = ratio.goal && value !== null ? value <= ratio.goal.max : null;
    const missing = of.status ?? to.status;
    const detail =
      value === null
        ? `not computed: ${missing ?? 'a side has no samples'}`
        : `${formatValue(of.result.median, of.result.unit)} / ${formatValue(to.result.median, to.result.unit)} = ${formatRatio(value)} (CI ${formatInterval(ci95)})` +
          (ratio.goal ? `; goal ≤ ${ratio.goal.max}×: ${goalMet ? 'met' : `missed by ${formatRatio(value / ratio.goal.max)}`}` : '');
    return {
      name: ratio.name,
      of: of.result,
      to: to.result,
      ratio: value,
      ci95,
      ...(ratio.goal ? { goal: ratio.goal, goal_met: goalMet } : {}),
      detail,
    };
  });
}
