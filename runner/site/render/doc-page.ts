/**
 * A page of docs/ (Markdown) as site HTML: docs/reliability.md becomes the
 * site's reliability page, so the figures the docs show and the ones the site
 * shows are one text. Links are rewritten for the site: an artifact the site
 * carries (../results/<rig>/<file>.json) goes to its viewer page, a rig file
 * (../rigs/<name>.rig.yaml) to its rig page; a link to anything else in the
 * repository (a test, a source file, another doc) is not on the site and is
 * shown as its repository path in code, never as a broken link.
 */
import { posix } from 'node:path';
import { Marked, type Tokens } from 'marked';
import { viewerPathOf } from '../model/artifact-ref.ts';
import { rigPagePath } from './links.ts';

export interface DocLinkTargets {
  /** Site paths of the artifacts the site carries (results/<rig>/<file>.json). */
  artifacts: ReadonlySet<string>;
  /** Names of the rigs with a page. */
  rigs: ReadonlySet<string>;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Where a link of the doc at `docPath` (repository-relative, e.g. docs/reliability.md)
 * goes on a site page at `root`: a site href, an external URL unchanged, or
 * null with the repository path it names (not on the site).
 */
export function siteLink(href: string, docPath: string, root: string, targets: DocLinkTargets): { href: string } | { repoPath: string } {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) return { href };
  if (href.startsWith('#')) return { href };
  const [pathPart, fragment] = href.split('#', 2) as [string, string | undefined];
  const repoPath = posix.normalize(posix.join(posix.dirname(docPath), decodeURI(pathPart)));
  if (targets.artifacts.has(repoPath)) {
    const viewer = `${root}${viewerPathOf(repoPath)}`;
    return { href: fragment === undefined ? viewer : `${viewer}#${fragment}` };
  }
  const rig = /^rigs\/([^/]+)\.rig\.ya?ml$/.exec(repoPath);
  if (rig && targets.rigs.has(rig[1]!)) return { href: `${root}${rigPagePath(rig[1]!)}` };
  return { repoPath };
}

/** The Markdown at `docPath` as HTML for a site page at `root`. */
export function renderDocPage(markdown: string, docPath: string, root: string, targets: DocLinkTargets): string {
  const marked = new Marked({ gfm: true, async: false });
  marked.use({
    renderer: {
      link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link): string {
        const text = this.parser.parseInline(token.tokens);
        const where = siteLink(token.href, docPath, root, targets);
        if ('repoPath' in where) return `${text} <span class="muted">(<code>${escapeHtml(where.repoPath)}</code> in the repository)</span>`;
        return `<a href="${escapeHtml(where.href)}">${text}</a>`;
      },
      // The docs' generated-block markers and section notes are for their editors, not readers.
      html(token: Tokens.HTML | Tokens.Tag): string {
        return /^\s*<!--[\s\S]*-->\s*$/.test(token.text) ? '' : token.text;
      },
    },
  });
  return marked.parse(markdown) as string;
}
