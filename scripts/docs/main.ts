/** `npm run docs`: rewrite docs/cli.md (from the CLI's --help) and docs/results.md (from results/). */
import { writeFileSync } from 'node:fs';
import { CLI_DOC, readCliDoc, renderCliDoc } from './cli-doc.ts';
import { RESULTS_DOC, renderResultsDoc } from './results-doc.ts';

const cli = await renderCliDoc(readCliDoc());
writeFileSync(CLI_DOC, cli);
process.stdout.write(`wrote ${CLI_DOC}\n`);
writeFileSync(RESULTS_DOC, renderResultsDoc());
process.stdout.write(`wrote ${RESULTS_DOC}\n`);
