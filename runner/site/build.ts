/** `rigor site` end to end: read, model, render, plan, write. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSiteModel } from './model/site.ts';
import { planSite } from './plan.ts';
import { readSiteInputs, type ReadOptions } from './read-inputs.ts';
import { renderHistoryCharts, renderRigCharts } from './render/charts.ts';
import { renderPages, type RenderedCharts } from './render/pages.ts';
import { loadTemplates, TEMPLATES_DIR } from './render/templates.ts';
import { applyPlan, assertReplaceable } from './write.ts';

const STYLESHEET = fileURLToPath(new URL('../../site/style.css', import.meta.url));
const VIEWER_SCRIPT = fileURLToPath(new URL('../../site/viewer.js', import.meta.url));

export interface BuildOptions extends ReadOptions {
  outDir: string;
  templatesDir?: string;
  /** The repository's docs/ (default: beside the rigs folder); its pages in SITE_DOCS become site pages when present. */
  docsDir?: string;
}

/** Pages of docs/ the site carries: the reliability figures, whose numbers link to their artifacts. */
const SITE_DOCS = ['reliability.md'];

export interface BuildReport {
  outDir: string;
  rigs: number;
  artifacts: number;
  pages: number;
  files: number;
  problems: { path: string; message: string }[];
  seconds: number;
}

export async function buildSite(opts: BuildOptions): Promise<BuildReport> {
  const started = performance.now();
  // A refusal after seconds of rendering would waste them.
  assertReplaceable(opts.outDir);
  const { input, artifactFiles, artifactTexts } = readSiteInputs(opts);
  const model = buildSiteModel(input);
  const charts: RenderedCharts = { rigs: new Map(), histories: new Map() };
  for (const rig of model.rigs) charts.rigs.set(rig.name, await renderRigCharts(rig));
  for (const history of model.histories) charts.histories.set(history.rig, await renderHistoryCharts(history));
  const docsDir = opts.docsDir ?? join(dirname(opts.rigsDir), 'docs');
  const docs = new Map(SITE_DOCS.filter((name) => existsSync(join(docsDir, name))).map((name) => [`docs/${name}`, readFileSync(join(docsDir, name), 'utf8')]));
  const pages = renderPages(model, loadTemplates(opts.templatesDir ?? TEMPLATES_DIR), charts, artifactTexts, docs);
  const plan = planSite(model, pages, artifactFiles, { css: readFileSync(STYLESHEET, 'utf8'), viewerScript: readFileSync(VIEWER_SCRIPT, 'utf8') });
  applyPlan(plan, opts.outDir);
  return {
    outDir: opts.outDir,
    rigs: model.rigs.length,
    artifacts: model.artifacts.length,
    pages: pages.length,
    files: plan.files.length + plan.copies.length,
    problems: input.problems,
    seconds: (performance.now() - started) / 1000,
  };
}
