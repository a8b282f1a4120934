/** A rig's ratios from the raw samples of two cells of one artifact (pure). */
import type { CellResult, RatioResult } from '../artifact/schema.ts';
import { cellMatches } from '../rig/matrix.ts';
import type { Ratio } from '../rig/schema.ts';
import { batchTimes, bootstrapRatioCI, bootstrapSlopeRatioCI, median, slopeThroughOrigin } from '../stats/index.ts';
import { formatInterval, formatRatioAgainst, formatValue } from '../report/number.ts';

function side(cells: CellResult[], where: Ratio['of']) {
  const cell = cells.find((candidate) => cellMatches(candidate.params, where.where));
  const metric = cell?.metrics[where.metric];
  const samples = metric?.samples ?? [];
  const iterations = metric?.batch_iterations;
  // A batched metric's batches as the fit takes them: calls and total time of each.
  const batches = iterations && samples.length ? { x: iterations, y: batchTimes(iterations, samples) } : null;
  return {
    result: {
      cell: cell?.id ?? '(no matching cell)',
      metric: where.metric,
      unit: metric?.unit ?? '',
      median: samples.length ? median(samples) : null,
      ...(iterations ? { slope: batches ? slopeThroughOrigin(batches.x, batches.y) : null } : {}),
    },
    samples,
    batches,
    status: cell ? (cell.status === 'ok' ? null : `${cell.id} ${cell.status}: ${cell.reason ?? ''}`) : 'no matching cell',
  };
}

/** Medians divided, or slopes when both sides are batched micro-benchmarks (their shown value); each with a bootstrap CI (`intervals: false`: none, for a reader checking the rest). */
export function computeRatios(ratios: Ratio[], cells: CellResult[], { intervals = true }: { intervals?: boolean } = {}): RatioResult[] {
  return ratios.map((ratio) => {
    const of = side(cells, ratio.of);
    const to = side(cells, ratio.to);
    const stat = of.result.slope !== undefined && to.result.slope !== undefined ? 'slope' : 'median';
    const [top, bottom] = stat === 'slope' ? [of.result.slope!, to.result.slope!] : [of.result.median, to.result.median];
    const value = top !== null && bottom ? top / bottom : null;
    const ci95 = value === null || !intervals ? null : stat === 'slope' ? bootstrapSlopeRatioCI(to.batches!, of.batches!) : bootstrapRatioCI(to.samples, of.samples, 'median');
    const goalMet = ratio.goal && value !== null ? value <= ratio.goal.max : null;
    const missing = of.status ?? to.status;
    const detail =
      value === null
        ? `not computed: ${missing ?? 'a side has no samples'}`
        : `${stat === 'slope' ? 'slopes ' : ''}${formatValue(top, of.result.unit)} / ${formatValue(bottom, to.result.unit)} = ${formatRatioAgainst(value, ratio.goal ? [ratio.goal.max] : [])} (CI ${formatInterval(ci95)})` +
          (ratio.goal ? `; goal ≤ ${ratio.goal.max}×: ${goalMet ? 'met' : `missed by ${formatRatioAgainst(value / ratio.goal.max, [1])}`}` : '');
    return {
      name: ratio.name,
      of: of.result,
      to: to.result,
      stat,
      ratio: value,
      ci95,
      ...(ratio.goal ? { goal: ratio.goal, goal_met: goalMet } : {}),
      detail,
    };
  });
}
