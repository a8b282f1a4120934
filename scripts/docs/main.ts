/** `npm run docs`: rewrite docs/cli.md (from the CLI's --help), docs/results.md, the README's gate figures and backend table, and the figures of docs/egress.md and docs/reliability.md (from results/). */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderBackendsBlock } from './backends-block.ts';
import { EGRESS_DOC, renderBypassBlock } from './bypass-block.ts';
import { README, renderReadme } from './calibration-block.ts';
import { CLI_DOC, readCliDoc, renderCliDoc } from './cli-doc.ts';
import { renderReliabilityDoc } from './reliability-doc.ts';
import { RELIABILITY_DOC, RESULTS_DOC, renderResultsDoc } from './results-doc.ts';

const cli = await renderCliDoc(readCliDoc());
writeFileSync(CLI_DOC, cli);
process.stdout.write(`wrote ${CLI_DOC}\n`);
writeFileSync(RESULTS_DOC, renderResultsDoc());
process.stdout.write(`wrote ${RESULTS_DOC}\n`);
writeFileSync(README, renderBackendsBlock(renderReadme(readFileSync(README, 'utf8'))));
process.stdout.write(`wrote ${README}\n`);
writeFileSync(EGRESS_DOC, renderBypassBlock(readFileSync(EGRESS_DOC, 'utf8')));
process.stdout.write(`wrote ${EGRESS_DOC}\n`);
writeFileSync(RELIABILITY_DOC, renderReliabilityDoc(readFileSync(RELIABILITY_DOC, 'utf8')));
process.stdout.write(`wrote ${RELIABILITY_DOC}\n`);
