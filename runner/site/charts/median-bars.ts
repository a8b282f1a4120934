/** Per-cell bars of the median (a batched metric's slope) with the bootstrap 95% CI as whiskers; each bar links to its number in the artifact. */
import type { TopLevelSpec } from 'vega-lite';
import { chartFrame, ROW_STEP, valueTitle } from './theme.ts';

export interface BarDatum {
  cell: string;
  median: number;
  low: number | null;
  high: number | null;
  /** The artifact viewer at the median's JSON pointer, relative to the page. */
  href: string;
}

/** A log axis has no zero: bars start at the power of ten below the smallest value drawn. */
function logFloor(data: BarDatum[]): number {
  const smallest = Math.min(...data.flatMap((d) => [d.median, ...(d.low === null ? [] : [d.low])]));
  return 10 ** Math.floor(Math.log10(smallest));
}

export function medianBarsSpec(opts: { metric: string; unit: string; stat: string; log: boolean; data: BarDatum[] }): TopLevelSpec {
  const floor = opts.log ? logFloor(opts.data) : 0;
  const y = { field: 'cell', type: 'nominal' as const, sort: null, title: null };
  const x = {
    type: 'quantitative' as const,
    scale: opts.log ? { type: 'log' as const, domainMin: floor } : { zero: true },
    title: valueTitle(opts.metric, opts.unit, `${opts.stat} with 95% CI${opts.log ? ', log scale' : ''}`),
  };
  return {
    ...chartFrame({ step: ROW_STEP }),
    data: { values: opts.data },
    layer: [
      { mark: { type: 'bar', color: '#7aa6d6', cursor: 'pointer' }, encoding: { y, x: { ...x, field: 'median' }, x2: { datum: floor }, href: { field: 'href' } } },
      {
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'rule', color: '#1f3b57' },
        encoding: { y, x: { ...x, field: 'low' }, x2: { field: 'high' } },
      },
      {
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'tick', color: '#1f3b57', thickness: 1, size: 10 },
        encoding: { y, x: { ...x, field: 'low' } },
      },
      {
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'tick', color: '#1f3b57', thickness: 1, size: 10 },
        encoding: { y, x: { ...x, field: 'high' } },
      },
    ],
  };
}
