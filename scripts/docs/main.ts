/** `npm run docs`: rewrite docs/cli.md (from the CLI's --help), docs/results.md and the README's gate figures and backend table (from results/). */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderBackendsBlock } from './backends-block.ts';
import { EGRESS_DOC, renderBypassBlock } from './bypass-block.ts';
import { README, renderReadme } from './calibration-block.ts';
import { CLI_DOC, readCliDoc, renderCliDoc } from './cli-doc.ts';
import { RESULTS_DOC, renderResultsDoc } from './results-doc.ts';

const cli = await renderCliDoc(readCliDoc());
writeFileSync(CLI_DOC, cli);
process.stdout.write(`wrote ${CLI_DOC}\n`);
writeFileSync(RESULTS_DOC, renderResultsDoc());
process.stdout.write(`wrote ${RESULTS_DOC}\n`);
writeFileSync(README, renderBackendsBlock(renderReadme(readFileSync(README, 'utf8'))));
process.stdout.write(`wrote ${README}\n`);
writeFileSync(EGRESS_DOC, renderBypassBlock(readFileSync(EGRESS_DOC, 'utf8')));
process.stdout.write(`wrote ${EGRESS_DOC}\n`);
