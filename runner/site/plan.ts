/** Every file of the site, decided before anything is written (pure plan, effectful apply in write.ts). */
import type { SiteModel } from './model/site.ts';
import { VIEWER_SCRIPT_PATH } from './render/artifact-viewer.ts';
import type { RenderedPage } from './render/pages.ts';

export interface SitePlan {
  /** Files written from text, path relative to the output folder. */
  files: { path: string; content: string }[];
  /** Files copied byte for byte (the artifacts and fleet records, so the raw JSON is exactly what was committed). */
  copies: { from: string; path: string }[];
}

const STYLE_PATH = 'style.css';

/** The static files every site carries beside its pages. */
export interface SiteAssets {
  css: string;
  viewerScript: string;
}

export function planSite(model: SiteModel, pages: RenderedPage[], artifactFiles: Map<string, string>, assets: SiteAssets): SitePlan {
  const files = [
    ...pages,
    { path: STYLE_PATH, content: assets.css },
    { path: VIEWER_SCRIPT_PATH, content: assets.viewerScript },
    ...model.rigs.flatMap((rig) => (rig.rigFile ? [{ path: rig.rigFile.path, content: rig.rigFile.source }] : [])),
  ];
  const copies = [...model.artifacts, ...model.fleetRecords].map((input) => {
    const from = artifactFiles.get(input.path);
    if (!from) throw new Error(`site plan: no file on disk for ${input.path}`);
    return { from, path: input.path };
  });
  const seen = new Set<string>();
  for (const { path } of [...files, ...copies]) {
    // Two outputs at one path would silently drop one of them.
    if (seen.has(path)) throw new Error(`site plan: two files would be written to ${path}`);
    seen.add(path);
  }
  return { files, copies };
}
