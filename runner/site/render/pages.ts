/** Every page of the site as HTML, from the model and the rendered charts. Formatting only: no decisions. */
import type { ArtifactInput } from '../model/artifact-ref.ts';
import { artifactRef } from '../model/artifact-ref.ts';
import type { SiteModel } from '../model/site.ts';
import { jsonForScript, VIEWER_SCRIPT_PATH } from './artifact-viewer.ts';
import type { RenderedChart } from './charts.ts';
import { comparePagePath, historyPagePath, rigPagePath, rootOf } from './links.ts';
import type { Templates } from './templates.ts';
import { renderDocPage } from './doc-page.ts';

export interface RenderedPage {
  path: string;
  content: string;
}

function page(templates: Templates, name: string, path: string, context: object): RenderedPage {
  const template = templates[name];
  if (!template) throw new Error(`site template ${name}.hbs is missing`);
  return { path, content: template({ root: rootOf(path), ...context }) };
}

/** `text`: the artifact file as committed, embedded for site/viewer.js to show. */
function artifactViewerPage(templates: Templates, input: ArtifactInput, text: string): RenderedPage {
  const ref = artifactRef(input);
  return page(templates, 'artifact', ref.viewer, {
    title: `${ref.rig} ${ref.file}`,
    rigName: ref.rig,
    ref,
    json: jsonForScript(text),
    viewerScript: VIEWER_SCRIPT_PATH,
  });
}

export interface RenderedCharts {
  /** Per rig: the charts of its page. */
  rigs: Map<string, RenderedChart[]>;
  /** Per rig: one SVG per metric of its history page. */
  histories: Map<string, string[]>;
}

/** Pages of docs/ the site carries, by repository path (docs/reliability.md), with their Markdown. */
export type DocPages = ReadonlyMap<string, string>;

/** Site path of a docs page: docs/reliability.md → reliability.html. */
export const docPagePath = (docPath: string) => `${docPath.replace(/^docs\//, '').replace(/\.md$/, '')}.html`;

/** `artifactTexts`: each artifact's file text by its site path. */
export function renderPages(model: SiteModel, templates: Templates, charts: RenderedCharts, artifactTexts: ReadonlyMap<string, string>, docs: DocPages = new Map()): RenderedPage[] {
  const comparable = new Set(model.compares.map((compare) => compare.rig));
  const withHistory = new Set(model.histories.map((history) => history.rig));
  const targets = { artifacts: new Set(model.artifacts.map((input) => input.path)), rigs: new Set(model.rigs.map((rig) => rig.name)) };
  const docLinks = [...docs.keys()].map((docPath) => ({ path: docPagePath(docPath), title: /^#\s+(.+)$/m.exec(docs.get(docPath)!)?.[1] ?? docPath }));
  return [
    page(templates, 'index', 'index.html', { title: 'Results', index: model.index, docLinks }),
    ...[...docs].map(([docPath, markdown]) => {
      const path = docPagePath(docPath);
      return page(templates, 'doc', path, { title: docLinks.find((link) => link.path === path)!.title, source: docPath, html: renderDocPage(markdown, docPath, rootOf(path), targets) });
    }),
    ...model.rigs.map((rig) =>
      page(templates, 'rig', rigPagePath(rig.name), {
        title: rig.title,
        rigName: rig.name,
        page: rig,
        charts: charts.rigs.get(rig.name) ?? [],
        hasCompare: comparable.has(rig.name),
        hasHistory: withHistory.has(rig.name),
      }),
    ),
    ...model.compares.map((compare) =>
      page(templates, 'compare', comparePagePath(compare.rig), { title: `Compare ${compare.rig}`, rigName: compare.rig, page: compare }),
    ),
    ...model.histories.map((history) => {
      const svgs = charts.histories.get(history.rig) ?? [];
      return page(templates, 'history', historyPagePath(history.rig), {
        title: `History ${history.rig}`,
        rigName: history.rig,
        page: { ...history, metrics: history.metrics.map((metric, i) => ({ ...metric, svg: svgs[i] ?? '' })) },
      });
    }),
    ...model.fleets.map((fleet) => page(templates, 'fleet', fleet.path, { title: `Fleet run ${fleet.rig} ${fleet.id}`, rigName: fleet.rig, page: fleet })),
    ...model.artifacts.map((input) => {
      const text = artifactTexts.get(input.path);
      if (text === undefined) throw new Error(`site render: no text read for artifact ${input.path}`);
      return artifactViewerPage(templates, input, text);
    }),
  ];
}
