/**
 * The Handlebars environment of the site: templates and partials from
 * site/templates (a file named _x.hbs is the partial "x"), and the helpers that
 * turn a sourced number into a link carrying its artifact, pointer and exact value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { viewerPathOf } from '../model/artifact-ref.ts';
import type { Dash, Shown } from '../model/source.ts';
import type { MatrixValue } from '../model/matrix.ts';
import { formatNumber, formatP } from '../../report/number.ts';
import { formatShown } from './format.ts';
import { comparePagePath, historyPagePath, pointerHref, rigPagePath } from './links.ts';

export type Template = (context: object) => string;
export type Templates = Record<string, Template>;

export const TEMPLATES_DIR = fileURLToPath(new URL('../../../site/templates/', import.meta.url));

const { escapeExpression, SafeString } = Handlebars;

/** Where the page is, from the context every page is rendered with. */
function rootOf(options: Handlebars.HelperOptions): string {
  return String(options.data.root.root ?? '');
}

/** A number: its formatted text, linked to its place in the artifact viewer, with the exact value and source as data. */
function numberLink(shown: Shown, root: string, label = '', bare = false): string {
  const what = shown.derived ? `${shown.derived} of ${shown.pointer}` : shown.pointer;
  const title = `${label ? `${label}: ` : ''}${shown.value} from ${shown.artifactPath}#${what}`;
  return (
    `<a class="num" href="${escapeExpression(pointerHref(root, shown.artifactPath, shown.pointer))}"` +
    ` data-artifact="${escapeExpression(shown.artifactPath)}" data-pointer="${escapeExpression(shown.pointer)}"` +
    ` data-value="${shown.value}"${shown.derived ? ` data-derived="${shown.derived}"` : ''} title="${escapeExpression(title)}">` +
    `${escapeExpression(bare ? formatNumber(shown.value) : formatShown(shown))}</a>`
  );
}

/** A dash with its reason on hover and a footnote mark; linked to the reason in the artifact when it has one. */
function dashMark(dash: Dash, root: string): string {
  const reason = escapeExpression(dash.reason);
  const mark = `<sup><a href="#note-${dash.footnote}">${dash.footnote}</a></sup>`;
  const text = dash.source
    ? `<a class="dash-link" href="${escapeExpression(pointerHref(root, dash.source.artifactPath, dash.source.pointer))}">—</a>`
    : '—';
  return `<span class="dash" title="${reason}">${text}${mark}</span>`;
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('num', (shown: Shown | null, ...rest: unknown[]) => {
    const options = rest.pop() as Handlebars.HelperOptions;
    const label = typeof rest[0] === 'string' ? rest[0] : '';
    return new SafeString(shown ? numberLink(shown, rootOf(options), label) : '—');
  });
  hb.registerHelper('measure', (value: MatrixValue, options: Handlebars.HelperOptions) => {
    const root = rootOf(options);
    if ('dash' in value) return new SafeString(dashMark(value.dash, root));
    const { stat, value: shown, ci, n } = value.measured;
    // A slope says so beside its number: the column's other cells may be medians.
    const mark = stat === 'slope' ? '<span class="stat">slope</span>' : '';
    if (options.hash.short) return new SafeString(`${numberLink(shown, root, stat)}${mark}`);
    // The unit is on the value already; the CI ends go bare to keep columns narrow.
    const interval = ci ? `<span class="ci">[${numberLink(ci.low, root, 'CI low', true)}–${numberLink(ci.high, root, 'CI high', true)}]</span>` : '';
    return new SafeString(`${numberLink(shown, root, stat)}${mark}${interval}<span class="n">n=${numberLink(n, root, stat === 'slope' ? 'batches' : 'n')}</span>`);
  });
  hb.registerHelper('src', (artifactPath: string, pointer: string, text: string, options: Handlebars.HelperOptions) =>
    new SafeString(`<a href="${escapeExpression(pointerHref(rootOf(options), artifactPath, pointer))}">${escapeExpression(text)}</a>`),
  );
  hb.registerHelper('href', (path: string, options: Handlebars.HelperOptions) => `${rootOf(options)}${path}`);
  hb.registerHelper('rigPage', (rig: string, options: Handlebars.HelperOptions) => `${rootOf(options)}${rigPagePath(rig)}`);
  hb.registerHelper('comparePage', (rig: string, options: Handlebars.HelperOptions) => `${rootOf(options)}${comparePagePath(rig)}`);
  hb.registerHelper('historyPage', (rig: string, options: Handlebars.HelperOptions) => `${rootOf(options)}${historyPagePath(rig)}`);
  hb.registerHelper('pText', (p: number | null) => formatP(p));
  hb.registerHelper('shortSha', (sha256: string) => sha256.slice(0, 8));
  hb.registerHelper('viewerOf', (artifactPath: string) => viewerPathOf(artifactPath));
  hb.registerHelper('fixed', (value: number) => formatNumber(value));
  hb.registerHelper('percent', (change: number) => `${change >= 0 ? '+' : '−'}${formatNumber(Math.abs(change) * 100)}%`);
  hb.registerHelper('gateTotal', (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0));
  hb.registerHelper('isNumber', (value: unknown) => typeof value === 'number');
  hb.registerHelper('inc', (index: number) => index + 1);
  hb.registerHelper('lt', (a: number, b: number) => a < b);
  hb.registerHelper('gt', (a: number, b: number) => a > b);
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('date', (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC'));
}

/** Compile every template and partial in `dir`. */
export function loadTemplates(dir = TEMPLATES_DIR): Templates {
  const hb = Handlebars.create();
  registerHelpers(hb);
  const templates: Templates = {};
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.hbs')).sort()) {
    const name = basename(file, '.hbs');
    const source = readFileSync(join(dir, file), 'utf8');
    if (name.startsWith('_')) hb.registerPartial(name.slice(1), source);
    else templates[name] = hb.compile(source);
  }
  return templates;
}
