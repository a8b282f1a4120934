#!/usr/bin/env node
// The rigor CLI: the bundle in dist/cli/ when it was built from the files as they are now
// (bin/cli-bundle.js; npm ci builds it), else the TypeScript sources through tsx's loader.
// RIGOR_LOADER=tsx runs the sources; RIGOR_LOADER=bundle the bundle or nothing (exit 2 when it
// is stale: the cli-startup rig must not time tsx under the bundle's name); RIGOR_DEBUG_LOADER=1
// says on stderr which one ran and why.
import { pathToFileURL } from 'node:url';
import { freshBundle } from './cli-bundle.js';

const asked = process.env.RIGOR_LOADER;
const bundle = asked === 'tsx' ? { stale: 'RIGOR_LOADER=tsx' } : freshBundle();
if (asked === 'bundle' && !('entry' in bundle)) {
  process.stderr.write(`rigor: RIGOR_LOADER=bundle, but the bundle cannot be used: ${bundle.stale}; npm run build makes it\n`);
  process.exit(2);
}
if (process.env.RIGOR_DEBUG_LOADER) {
  process.stderr.write('entry' in bundle ? `rigor: loader bundle ${bundle.entry}\n` : `rigor: loader tsx (${bundle.stale})\n`);
}
let main;
if ('entry' in bundle) {
  ({ main } = await import(pathToFileURL(bundle.entry).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../runner/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
