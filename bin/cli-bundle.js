/**
 * The CLI's bundle: runner/ and what it imports, compiled by esbuild into
 * plain JavaScript under dist/cli/, so `rigor` starts without compiling
 * TypeScript (tsx) or resolving some thousand module files. `npm ci` and
 * `npm install` build it (the `prepare` script), as does `npm run build`.
 *
 * dist/cli/manifest.json names the entry file and every file the bundle was
 * made from (sources, node_modules, this file, package.json, tsconfig.json)
 * with its size, mtime and sha256. bin/rigor.js uses the bundle only when
 * every one of them is unchanged — a size or content differs, or one is
 * gone: stale, and the sources run through tsx instead — so an edit is never
 * hidden by an old bundle.
 *
 * Plain JavaScript: it runs before any TypeScript loader.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = join('dist', 'cli');
const ENTRY = 'runner/cli/main.ts';
const MANIFEST = 'manifest.json';
const MANIFEST_VERSION = 1;

/**
 * Loaded by Node at run time, not bundled: native addons (better-sqlite3),
 * tools rigor hands to other processes (esbuild, tsx), and big libraries only
 * the site verb loads (vega, vega-lite), which read files beside their own code.
 */
const EXTERNAL = ['better-sqlite3', 'esbuild', 'tsx', 'vega', 'vega-lite', 'playwright-core'];

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function readManifest(dir) {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    return manifest?.version === MANIFEST_VERSION ? manifest : null;
  } catch {
    return null;
  }
}

/**
 * The bundle's entry file when dist/cli/ holds a bundle made from the files
 * as they are now; else why not (`{ stale }`). Stats every input (a few ms);
 * hashes only those whose mtime moved (a checkout, a save without changes).
 * @param {string} [root]
 * @returns {{ entry: string } | { stale: string }}
 */
export function freshBundle(root = ROOT) {
  const dir = join(root, BUNDLE_DIR);
  const manifest = readManifest(dir);
  if (!manifest) return { stale: `no bundle in ${BUNDLE_DIR}/ (npm run build makes one)` };
  for (const [file, recorded] of Object.entries(manifest.inputs)) {
    const path = resolve(root, file);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return { stale: `${file} is gone since the bundle was built` };
    }
    if (stat.size !== recorded.size) return { stale: `${file} changed since the bundle was built` };
    if (stat.mtimeMs !== recorded.mtimeMs && sha256(path) !== recorded.sha256) return { stale: `${file} changed since the bundle was built` };
  }
  const entry = join(dir, manifest.entry);
  return existsSync(entry) ? { entry } : { stale: `${join(BUNDLE_DIR, manifest.entry)} is missing` };
}

/**
 * esbuild plugin: each module's `import.meta.url` is its source file's URL,
 * as under tsx, so `new URL('../../site/templates/', import.meta.url)` and
 * the like find the same files from dist/cli/. Written relative to the bundle
 * file (every output sits in dist/cli/ itself), so a moved checkout still works.
 */
function sourceUrls(outDir) {
  return {
    name: 'rigor-source-urls',
    setup(build) {
      build.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const url = `new URL(${JSON.stringify(relative(outDir, args.path).split(sep).join('/'))}, import.meta.url).href`;
        return { contents: text.replace(/\bimport\.meta\.url\b/g, url), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
      // zod's `z` namespace reaches every locale (~350 kB); rigor words its own errors, so English only.
      build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export { default as en } from './en.js';", loader: 'js' }));
    },
  };
}

/**
 * Build the bundle into `root`/dist/cli/: content-hashed files written beside
 * the old ones, then the manifest swapped in with a rename, so a rigor
 * starting meanwhile loads one whole bundle or the other; files of the
 * bundle before the previous one are removed.
 * @returns {Promise<{ entry: string; inputs: number; outputs: number }>}
 */
export async function buildBundle(root = ROOT) {
  const esbuild = await import('esbuild');
  const dir = join(root, BUNDLE_DIR);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: ENTRY },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ESM builds of the dependencies where they ship one; CommonJS ones get a require() of their own
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __rigorCreateRequire } from 'node:module'; const require = __rigorCreateRequire(import.meta.url);" },
    external: EXTERNAL,
    outdir: dir,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [sourceUrls(dir)],
  });
  mkdirSync(dir, { recursive: true });
  const outputs = [];
  let entry = null;
  for (const file of result.outputFiles) {
    const name = relative(dir, file.path);
    outputs.push(name);
    if (!existsSync(file.path)) writeFileSync(file.path, file.contents);
    if (result.metafile.outputs[relative(root, file.path).split(sep).join('/')]?.entryPoint === ENTRY) entry = name;
  }
  if (!entry) throw new Error(`esbuild wrote no entry for ${ENTRY}`);
  const self = relative(root, fileURLToPath(import.meta.url));
  // besides what was bundled: this file (the build's options) and what esbuild read them with
  const files = [...new Set([...Object.keys(result.metafile.inputs), self, 'package.json', 'tsconfig.json'])].sort();
  const inputs = Object.fromEntries(
    files.map((file) => {
      const path = resolve(root, file);
      const stat = statSync(path);
      return [file, { size: stat.size, mtimeMs: stat.mtimeMs, sha256: sha256(path) }];
    }),
  );
  const previous = readManifest(dir);
  const temp = join(dir, `${MANIFEST}.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify({ version: MANIFEST_VERSION, entry, outputs, inputs }, null, 1)}\n`);
  renameSync(temp, join(dir, MANIFEST));
  const keep = new Set([MANIFEST, ...outputs, ...(previous?.outputs ?? [])]);
  for (const name of readdirSync(dir)) if (!keep.has(name) && !name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  return { entry: join(dir, entry), inputs: files.length, outputs: outputs.length };
}

// `node bin/cli-bundle.js`: build; `--check`: say whether the bundle is fresh (exit 0) or stale (exit 1) and why.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const state = freshBundle();
    process.stdout.write('entry' in state ? `fresh: ${relative(process.cwd(), state.entry)}\n` : `stale: ${state.stale}\n`);
    process.exitCode = 'entry' in state ? 0 : 1;
  } else {
    const started = performance.now();
    const built = await buildBundle();
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`rigor: bundled ${built.inputs} files into ${relative(process.cwd(), dirname(built.entry)) || '.'}/ (${built.outputs} files, ${ms} ms)\n`);
  }
}
