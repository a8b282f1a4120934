/** What every chart shares: no background (the page's shows), system fonts, quiet axes. */
import type { Config } from 'vega-lite';

const CHART_WIDTH = 520;
/** Height of one cell's row, in pixels. */
export const ROW_STEP = 20;

const chartConfig: Config = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  axisY: { labelLimit: 260 },
};

/** An axis title: the metric, its unit, and what is drawn. */
export function valueTitle(metric: string, unit: string, what: string): string {
  return `${metric} (${unit}) — ${what}`;
}

/** The top of every chart spec: schema, transparent background, the shared config and width. */
export function chartFrame(height: number | { step: number }) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'transparent',
    config: chartConfig,
    width: CHART_WIDTH,
    height,
  };
}
