/**
 * The site end to end: built by the real CLI from the committed results plus
 * fixture artifacts, served on loopback, read in headless Chromium.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stat } from '../../../runner/rig/schema.ts';
import { statOfSamples } from '../../../runner/stats/index.ts';
import { writeArtifactFile } from '../../helpers/artifact-builder.ts';
import { REPO, rigor } from '../../helpers/cli.ts';
import { DEMO_RIG_YAML, demoArtifacts, NEVER_RUN_RIG_YAML } from './fixtures.ts';
import { serveFolder } from './static-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = join(REPO, 'test-output');

/** RFC 6901, written out here rather than taken from the code under test. */
function resolvePointer(document: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

function buildFixtureSite(): { dir: string; out: string; build: ReturnType<typeof rigor> } {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-site-'));
  const results = join(dir, 'results');
  const rigs = join(dir, 'rigs');
  cpSync(join(REPO, 'results'), results, { recursive: true });
  cpSync(join(REPO, 'rigs'), rigs, { recursive: true });
  writeFileSync(join(rigs, 'demo.rig.yaml'), DEMO_RIG_YAML);
  writeFileSync(join(rigs, 'never-run.rig.yaml'), NEVER_RUN_RIG_YAML);
  for (const { artifact } of demoArtifacts()) writeArtifactFile(results, artifact);
  // The docs page the site carries, with links of every kind it rewrites.
  mkdirSync(join(dir, 'docs'));
  const lifecycle = readdirSync(join(results, 'lifecycle')).filter((name) => name.endsWith('.json'))[0]!;
  writeFileSync(
    join(dir, 'docs', 'reliability.md'),
    `${readFileSync(join(REPO, 'docs', 'reliability.md'), 'utf8')}\n## Fixture links\n\n` +
      `| figure | source |\n| --- | --- |\n| [12 ms](../results/lifecycle/${lifecycle}#/cells/0) | [lifecycle](../rigs/lifecycle.rig.yaml), [a test](../test/layout.test.ts) |\n`,
  );
  const out = join(dir, 'dist');
  const build = rigor(['site', '--rigs', rigs, '--results', results, '--out', out]);
  return { dir, out, build };
}

// One build serves every test below.
let site: ReturnType<typeof buildFixtureSite>;
beforeAll(() => {
  site = buildFixtureSite();
}, 120_000);
afterAll(() => rmSync(site.dir, { recursive: true, force: true }));

describe('rigor site', () => {

  it('builds every page: index, one per rig, history, compare, an artifact viewer per artifact', () => {
    const { out, build } = site;
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/pages, \d+ files from \d+ artifacts of \d+ rigs in [\d.]+ s/);
    for (const path of ['index.html', 'style.css', 'rig/demo.html', 'rig/never-run.html', 'history/demo.html', 'compare/demo.html', 'rigs/demo.rig.yaml']) {
      expect(existsSync(join(out, path)), path).toBe(true);
    }
    const viewers = readdirSync(join(out, 'results', 'demo'));
    expect(viewers.filter((name) => name.endsWith('.json'))).toHaveLength(2);
    expect(viewers.filter((name) => name.endsWith('.html'))).toHaveLength(2);
  });

  it('refuses to replace a folder it did not write', () => {
    const foreign = mkdtempSync(join(site.dir, 'foreign-'));
    writeFileSync(join(foreign, 'keep.txt'), 'not a site');
    const result = rigor(['site', '--rigs', join(site.dir, 'rigs'), '--results', join(site.dir, 'results'), '--out', foreign]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expected an empty folder or one rigor site wrote/);
    expect(existsSync(join(foreign, 'keep.txt'))).toBe(true);
  });
});

describe.skipIf(!existsSync(CHROMIUM))(`the built site in headless Chromium (${CHROMIUM})`, () => {
  let origin: string;
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  const consoleErrors: string[] = [];
  const offOrigin: string[] = [];
  const artifacts = new Map<string, Promise<unknown>>();
  let rigPages: string[] = [];

  const artifact = (path: string) => {
    if (!artifacts.has(path)) artifacts.set(path, fetch(`${origin}/${path}`).then((response) => response.json()));
    return artifacts.get(path)!;
  };

  async function open(path: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${path}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${path}: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(`${origin}/`) && !request.url().startsWith('data:')) offOrigin.push(`${path}: ${request.url()}`);
    });
    const response = await page.goto(`${origin}/${path}`);
    expect(response?.status(), path).toBe(200);
    return page;
  }

  beforeAll(async () => {
    expect(site.build.code, site.build.stderr).toBe(0);
    rigPages = readdirSync(join(site.out, 'rig')).map((name) => `rig/${name}`);
    ({ origin, server } = await serveFolder(site.out));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A bound on waiting, not a claim about speed: a loaded 2-core host can take long to render a big artifact page.
    context.setDefaultTimeout(120_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('shows in every rig table the value found at its artifact and JSON pointer', async () => {
    let checked = 0;
    for (const path of rigPages) {
      const page = await open(path);
      const numbers = await page.$$eval('[data-pointer]', (elements) =>
        elements.map((element) => ({
          artifact: element.getAttribute('data-artifact')!,
          pointer: element.getAttribute('data-pointer')!,
          value: element.getAttribute('data-value')!,
          derived: element.getAttribute('data-derived'),
          text: element.textContent ?? '',
          inMatrix: element.closest('table.matrix') !== null,
        })),
      );
      for (const number of numbers) {
        const found = resolvePointer(await artifact(number.artifact), number.pointer);
        const expected = number.derived ? statOfSamples(found as number[], number.derived as Stat) : found;
        expect(Number(number.value), `${path}: ${number.artifact}#${number.pointer}`).toBe(expected);
        if (number.inMatrix) {
          // The text is the same number rounded for reading (three significant digits at least).
          const shown = Number.parseFloat(number.text);
          expect(Math.abs(shown - (expected as number)), `${path}: "${number.text}" for ${expected}`).toBeLessThanOrEqual(Math.abs(expected as number) * 0.005 + 1e-12);
        }
        checked += 1;
      }
      await page.close();
    }
    const demo = await open('rig/demo.html');
    expect(await demo.locator('table.matrix [data-pointer]').count()).toBeGreaterThan(20);
    await demo.close();
    expect(checked).toBeGreaterThan(200);
  });

  it('marks uncaptured cells with a dash and the reason, and qemu cells with TCG', async () => {
    const page = await open('rig/demo.html');
    const docker = page.locator('table.matrix tr', { hasText: 'backend=docker' });
    await expect(docker.locator('.dash').first().getAttribute('title')).resolves.toMatch(/^skipped: backend docker unavailable/);
    await expect(page.locator('table.matrix tr', { hasText: 'backend=later' }).locator('.dash').count()).resolves.toBe(3);
    await expect(page.locator('table.matrix tr', { hasText: 'backend=qemu' }).locator('.accel').textContent()).resolves.toBe('TCG');
    await expect(page.locator('ol.footnotes li').first().textContent()).resolves.toMatch(/skipped: backend docker unavailable/);
    await page.close();
    const index = await open('index.html');
    await expect(index.locator('#rig-never-run .not-captured').textContent()).resolves.toMatch(/not captured yet/);
    await index.close();
  });

  it('shows a published figure beside ours, visibly marked as not measured here', async () => {
    const page = await open('rig/demo.html');
    const row = page.locator('table.published-figures tbody tr').first();
    await expect(row.locator('.published-mark').isVisible()).resolves.toBe(true);
    await expect(row.locator('.published-mark').textContent()).resolves.toBe('published by elsewhere, not measured here');
    await expect(row.locator('[data-pointer]').getAttribute('data-pointer')).resolves.toBe('/cells/0/metrics/total_ms/summary/mean');
    await page.close();
  });

  it('resolves every link on the index and on a rig page, fragments included', async () => {
    for (const path of ['index.html', 'rig/demo.html', 'rig/lifecycle.html']) {
      const page = await open(path);
      const links = await page.$$eval('a', (anchors) =>
        anchors.map((a) => new URL(a.getAttribute('href') ?? a.getAttribute('xlink:href') ?? '', document.baseURI).href),
      );
      expect(links.length, path).toBeGreaterThan(10);
      const targets = new Map<string, Set<string>>();
      for (const link of links) {
        expect(link.startsWith(`${origin}/`), `${path} links off the site: ${link}`).toBe(true);
        const url = new URL(link);
        const fragments = targets.get(url.pathname) ?? new Set<string>();
        if (url.hash) fragments.add(url.hash.slice(1));
        targets.set(url.pathname, fragments);
      }
      for (const [target, fragments] of targets) {
        const response = await fetch(`${origin}${target}`);
        expect(response.status, `${path} → ${target}`).toBe(200);
        const body = await response.text();
        if (!/^\/results\/.*\.html$/.test(target)) {
          for (const fragment of fragments) {
            const id = fragment.replaceAll('&', '&#38;').replaceAll("'", '&#39;');
            expect(body.includes(`id="${id}"`), `${path} → ${target}#${fragment}`).toBe(true);
          }
          continue;
        }
        if (fragments.size === 0) continue;
        // An artifact page makes its anchors with a script: look for them in the browser, each showing the artifact's value there.
        const viewer = await open(target.slice(1));
        const shown = await viewer.evaluate((ids) => ids.map((id) => document.getElementById(id)?.textContent ?? null), [...fragments]);
        expect([...fragments].filter((_, i) => shown[i] === null), `${path} → ${target}: no element with these ids`).toEqual([]);
        const json = await artifact(target.slice(1).replace(/\.html$/, '.json'));
        [...fragments].forEach((fragment, i) => {
          expect(JSON.parse(shown[i]!), `${target}#${fragment}`).toEqual(resolvePointer(json, decodeURIComponent(fragment)));
        });
        await viewer.close();
      }
      await page.close();
    }
  }, 300_000);

  it('carries docs/reliability.md as its reliability page, linked from the index, its links rewritten for the site', async () => {
    const index = await open('index.html');
    expect(await index.$eval('a[href="reliability.html"]', (a) => a.textContent)).toBe('Reliability and security');
    await index.close();
    const page = await open('reliability.html');
    expect(await page.$eval('h1', (h) => h.textContent)).toBe('Reliability and security');
    // The figure links to the artifact's viewer at its pointer, the rig to its page; a test file is named, not linked.
    const hrefs = await page.$$eval('article a', (anchors) => anchors.map((a) => a.getAttribute('href')));
    expect(hrefs).toContain(`results/lifecycle/${readdirSync(join(site.out, 'results', 'lifecycle')).find((name) => name.endsWith('.json'))!.replace(/\.json$/, '.html')}#/cells/0`);
    expect(hrefs).toContain('rig/lifecycle.html');
    expect(await page.$eval('article', (article) => article.textContent)).toContain('test/layout.test.ts in the repository');
    // Every link into the site resolves (links to other sites, like a library's home page, are not fetched: no network here).
    for (const href of hrefs.filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href!))) expect((await fetch(`${origin}/${href!.split('#')[0]}`)).status, href!).toBe(200);
    // The docs' section markers are for their editors: not shown.
    expect(await page.content()).not.toContain('<!-- section');
    await page.close();
  }, 120_000);

  it('opens the artifact viewer at the number a reader clicks', async () => {
    const page = await open('rig/demo.html');
    const number = page.locator('table.matrix a.num').first();
    const value = Number(await number.getAttribute('data-value'));
    await Promise.all([page.waitForURL(/\/results\/demo\/.*\.html#\//), number.click()]);
    const target = await page.evaluate(() => document.querySelector(':target')?.textContent ?? null);
    expect(JSON.parse(target!)).toBe(value);
    await page.close();
  });

  it('saves screenshots of the index and a rig page to test-output/', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const [path, file] of [['index.html', 'site-index.png'], ['rig/lifecycle.html', 'site-rig-lifecycle.png']] as const) {
      const page = await open(path);
      await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: true });
      await page.close();
      expect(existsSync(join(SCREENSHOTS, file))).toBe(true);
    }
  });

  it('logs no console errors and fetches nothing from outside the site', () => {
    expect(consoleErrors).toEqual([]);
    expect(offOrigin).toEqual([]);
  });
});
