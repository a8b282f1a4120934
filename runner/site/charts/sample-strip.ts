/**
 * The distribution of the raw samples per cell: a tick per sample over a
 * min–max whisker and a box from the 25th to the 75th percentile.
 */
import type { TopLevelSpec } from 'vega-lite';
import { quantileSorted } from '../../stats/index.ts';
import { chartFrame, ROW_STEP, valueTitle } from './theme.ts';

/** Above this many samples a cell draws this many evenly spaced order statistics (its quantile function) instead. */
const MAX_TICKS_PER_CELL = 1000;

export interface StripCell {
  cell: string;
  samples: readonly number[];
}

interface BoxDatum {
  cell: string;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** The samples drawn for one cell: all of them, or MAX_TICKS_PER_CELL quantiles when there are more. */
function ticksOf(sorted: readonly number[]): number[] {
  if (sorted.length <= MAX_TICKS_PER_CELL) return [...sorted];
  return Array.from({ length: MAX_TICKS_PER_CELL }, (_, i) => quantileSorted(sorted, i / (MAX_TICKS_PER_CELL - 1)));
}

export function sampleStripSpec(opts: { metric: string; unit: string; log: boolean; cells: StripCell[] }): TopLevelSpec {
  const boxes: BoxDatum[] = [];
  const ticks: { cell: string; value: number }[] = [];
  let thinned = false;
  for (const { cell, samples } of opts.cells) {
    const sorted = [...samples].sort((a, b) => a - b);
    const q = (p: number) => quantileSorted(sorted, p);
    boxes.push({ cell, min: sorted[0]!, q1: q(0.25), median: q(0.5), q3: q(0.75), max: sorted.at(-1)! });
    thinned ||= sorted.length > MAX_TICKS_PER_CELL;
    for (const value of ticksOf(sorted)) ticks.push({ cell, value });
  }
  const y = { field: 'cell', type: 'nominal' as const, sort: opts.cells.map((c) => c.cell), title: null };
  const scale = opts.log ? { type: 'log' as const } : { zero: false };
  const what = `raw samples, box 25th–75th percentile${thinned ? `, ${MAX_TICKS_PER_CELL} quantiles drawn per large cell` : ''}${opts.log ? ', log scale' : ''}`;
  const x = (field: string) => ({ field, type: 'quantitative' as const, scale, title: valueTitle(opts.metric, opts.unit, what) });
  return {
    ...chartFrame({ step: ROW_STEP }),
    layer: [
      { data: { values: boxes }, mark: { type: 'rule', color: '#888' }, encoding: { y, x: x('min'), x2: { field: 'max' } } },
      {
        data: { values: boxes },
        mark: { type: 'bar', color: '#dbe7f3', stroke: '#7aa6d6', size: 12 },
        encoding: { y, x: x('q1'), x2: { field: 'q3' } },
      },
      { data: { values: ticks }, mark: { type: 'tick', color: '#1f3b57', opacity: 0.45, thickness: 1, size: 12 }, encoding: { y, x: x('value') } },
      { data: { values: boxes }, mark: { type: 'tick', color: '#c0392b', thickness: 2, size: 14 }, encoding: { y, x: x('median') } },
    ],
  };
}
