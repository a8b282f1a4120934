/**
 * A metric across a rig's artifacts: a line per cell through the medians, its
 * CI as a band, change points as red dashed rules, rig edits as grey dotted ones.
 */
import type { TopLevelSpec } from 'vega-lite';
import { chartFrame } from './theme.ts';

export interface HistoryDatum {
  /** 1-based position of the artifact in the history's order (the table's # column). */
  position: number;
  series: string;
  median: number;
  low: number | null;
  high: number | null;
  href: string;
}

export function historyLinesSpec(opts: {
  metric: string;
  unit: string;
  log: boolean;
  data: HistoryDatum[];
  changes: { position: number; series: string }[];
  /** Where the rig file was edited: the first artifact made from the new file. */
  edits: { position: number; series: string }[];
}): TopLevelSpec {
  const x = { field: 'position', type: 'quantitative' as const, title: 'artifact # in commit order (see the table)', axis: { tickMinStep: 1, format: 'd' } };
  const scale = opts.log ? { type: 'log' as const } : { zero: false };
  const y = (field: string) => ({ field, type: 'quantitative' as const, scale, title: `${opts.metric} (${opts.unit}${opts.log ? ', log scale' : ''})` });
  const color = { field: 'series', type: 'nominal' as const, title: 'cell@host', legend: { orient: 'bottom' as const, columns: 2, labelLimit: 320 } };
  return {
    ...chartFrame(260),
    layer: [
      {
        data: { values: opts.data },
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x, y: y('low'), y2: { field: 'high' }, color },
      },
      { data: { values: opts.data }, mark: { type: 'line', point: true }, encoding: { x, y: y('median'), color, href: { field: 'href' } } },
      {
        data: { values: opts.changes.length > 0 ? opts.changes : [{ position: null, series: '' }] },
        transform: [{ filter: 'datum.position != null' }],
        mark: { type: 'rule', color: '#c0392b', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'position', type: 'quantitative' } },
      },
      {
        // Half a step before the first point of the edited rig: the edit lies between two artifacts.
        data: { values: opts.edits.length > 0 ? opts.edits.map((edit) => ({ ...edit, position: edit.position - 0.5 })) : [{ position: null, series: '' }] },
        transform: [{ filter: 'datum.position != null' }],
        mark: { type: 'rule', color: '#7f8c8d', strokeDash: [1, 3], strokeWidth: 2 },
        encoding: { x: { field: 'position', type: 'quantitative' } },
      },
    ],
  };
}
