/** Links between pages: every model path is relative to the site root; a page reaches it through its own depth. */
import { viewerPathOf } from '../model/artifact-ref.ts';
import { fragmentOf } from '../model/json-pointer.ts';

/** "" for index.html, "../" for rig/x.html, "../../" for results/x/y.html. */
export function rootOf(pagePath: string): string {
  return '../'.repeat(pagePath.split('/').length - 1);
}

/** The artifact viewer at a JSON pointer, from a page at `root`. */
export function pointerHref(root: string, artifactPath: string, pointer: string): string {
  return `${root}${viewerPathOf(artifactPath)}#${fragmentOf(pointer)}`;
}

export const rigPagePath = (rig: string) => `rig/${rig}.html`;
export const comparePagePath = (rig: string) => `compare/${rig}.html`;
export const historyPagePath = (rig: string) => `history/${rig}.html`;
