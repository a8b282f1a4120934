/** The charts of a rig page as inline SVG, rendered with vega at build time. */
import { historyLinesSpec } from '../charts/history-lines.ts';
import { medianBarsSpec } from '../charts/median-bars.ts';
import { renderSvg } from '../charts/render-svg.ts';
import { sampleStripSpec } from '../charts/sample-strip.ts';
import type { MetricCharts } from '../model/charts.ts';
import type { HistoryPage } from '../model/history.ts';
import type { RigPage } from '../model/rig-page.ts';
import { historyPagePath, pointerHref, rigPagePath, rootOf } from './links.ts';

export interface RenderedChart extends Omit<MetricCharts, 'cells'> {
  bars: string;
  strip: string;
}

export async function renderRigCharts(page: RigPage): Promise<RenderedChart[]> {
  const root = rootOf(rigPagePath(page.name));
  const rendered: RenderedChart[] = [];
  for (const { cells, ...chart } of page.charts) {
    const data = cells.map((cell) => ({
      cell: cell.cell,
      median: cell.value.value,
      low: cell.low,
      high: cell.high,
      href: pointerHref(root, cell.value.artifactPath, cell.value.pointer),
    }));
    rendered.push({
      ...chart,
      bars: await renderSvg(medianBarsSpec({ metric: chart.metric, unit: chart.unit, stat: chart.stat, log: chart.logBars, data })),
      strip: await renderSvg(sampleStripSpec({ metric: chart.metric, unit: chart.unit, log: chart.logSamples, cells })),
    });
  }
  return rendered;
}

/** One SVG per metric of a history page, in the page's metric order. */
export async function renderHistoryCharts(page: HistoryPage): Promise<string[]> {
  const root = rootOf(historyPagePath(page.rig));
  const svgs: string[] = [];
  for (const metric of page.metrics) {
    const data = metric.rows.flatMap((row, i) =>
      row.values.flatMap((value, column) =>
        value
          ? [{
              position: i + 1,
              series: metric.columns[column]!.key,
              median: value.median.value,
              low: value.low,
              high: value.high,
              href: pointerHref(root, value.median.artifactPath, value.median.pointer),
            }]
          : [],
      ),
    );
    const changes = metric.rows.flatMap((row, i) =>
      row.values.flatMap((value, column) => (value?.change ? [{ position: i + 1, series: metric.columns[column]!.key }] : [])),
    );
    const edits = metric.rows.flatMap((row, i) =>
      row.values.flatMap((value, column) => (value?.rigEdit ? [{ position: i + 1, series: metric.columns[column]!.key }] : [])),
    );
    svgs.push(await renderSvg(historyLinesSpec({ metric: metric.metric, unit: metric.unit, log: metric.log, data, changes, edits })));
  }
  return svgs;
}
