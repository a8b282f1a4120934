/**
 * Figures others published for cells of a rig (the rig's `published:`), each
 * beside our value of the same metric and statistic in the newest artifact.
 * A published figure is never a sample: nothing here feeds gates, ratios or
 * history, and the page marks each row as not measured here. Pure.
 */
import type { CellResult } from '../../artifact/schema.ts';
import { cellMatches, expandMatrix } from '../../rig/matrix.ts';
import type { Rig, Stat } from '../../rig/schema.ts';
import type { ArtifactInput } from './artifact-ref.ts';
import { pointerOf } from './json-pointer.ts';
import { measuredValue } from './matrix.ts';
import type { Shown } from './source.ts';

export interface PublishedRow {
  publisher: string;
  /** The source as written, a short label for it, and a link when it is a URL. */
  source: { text: string; label: string; href: string | null };
  /** The source's date (not `date`: the templates have a helper of that name). */
  sourceDate: string | null;
  version: string | null;
  host: string;
  measures: string;
  note: string | null;
  /** The cell the figure stands beside (its id in the rig's matrix). */
  cell: string;
  metric: string;
  stat: Stat;
  figure: { value: number; unit: string; asWritten: string | null };
  /** Our value of `stat`, linked into the newest artifact; null with `oursMissing` saying why. */
  ours: Shown | null;
  oursMissing: string | null;
}

const isUrl = (text: string) => /^https?:\/\//.test(text);

/** A URL shortened to its host and last path segment when long (the whole text is the link's title). */
export function sourceLabel(text: string): string {
  if (!isUrl(text) || text.length <= 48) return text;
  const url = new URL(text);
  const last = url.pathname.split('/').filter(Boolean).pop();
  return last ? `${url.hostname}/…/${last}` : url.hostname;
}

/** Our value of one statistic of a metric in one cell, or why there is none. */
function ourValue(input: ArtifactInput | null, cellId: string, metric: string, stat: Stat): { ours: Shown | null; oursMissing: string | null } {
  if (!input) return { ours: null, oursMissing: 'not measured yet: the rig has no artifact' };
  const index = input.artifact.cells.findIndex((cell: CellResult) => cell.id === cellId);
  const cell = input.artifact.cells[index];
  if (!cell) return { ours: null, oursMissing: 'the newest artifact has no such cell' };
  if (cell.status !== 'ok') return { ours: null, oursMissing: `${cell.status}: ${cell.reason ?? 'no reason recorded'}` };
  const result = cell.metrics[metric];
  if (!result?.summary) return { ours: null, oursMissing: `no samples of ${metric} in this cell` };
  // The median goes as the matrix shows it (a batched metric's slope); other statistics from the stored summary.
  if (stat === 'median' || stat === 'p50') {
    const measured = measuredValue(input.path, index, metric, result);
    if (measured) return { ours: measured.value, oursMissing: null };
  }
  const ours: Shown = {
    artifactPath: input.path,
    pointer: pointerOf('cells', index, 'metrics', metric, 'summary', stat),
    value: result.summary[stat],
    unit: result.unit,
    format: 'value',
  };
  return { ours, oursMissing: null };
}

/** One row per published figure of `rig`, beside the newest artifact's value; [] when the rig publishes none. */
export function publishedRows(rig: Rig | null, newest: ArtifactInput | null): PublishedRow[] {
  const figures = rig?.published ?? [];
  if (figures.length === 0) return [];
  const cells = expandMatrix(rig!.matrix);
  return figures.map((figure) => {
    // The rig was validated: `where` selects exactly one cell.
    const cellId = cells.find((cell) => cellMatches(cell.params, figure.where))?.id ?? Object.entries(figure.where).map(([k, v]) => `${k}=${String(v)}`).join(',');
    const stat = figure.stat ?? 'median';
    return {
      publisher: figure.publisher,
      source: { text: figure.source, label: sourceLabel(figure.source), href: isUrl(figure.source) ? figure.source : null },
      sourceDate: figure.date ?? null,
      version: figure.version ?? null,
      host: figure.host,
      measures: figure.measures,
      note: figure.note ?? null,
      cell: cellId,
      metric: figure.metric,
      stat,
      figure: { value: figure.value, unit: figure.unit, asWritten: figure.as_written ?? null },
      ...ourValue(newest, cellId, figure.metric, stat),
    };
  });
}
