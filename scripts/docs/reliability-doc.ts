/**
 * docs/reliability.md with every figure made anew from results/: each
 * generator writes its own block between its markers. `npm run docs` writes
 * it; test/scripts/docs/reliability-doc.test.ts fails when it is stale.
 */
import { renderEscapesBlock } from './escapes-block.ts';
import { renderKillBlock } from './kill-block.ts';
import { renderLoadBlock } from './load-block.ts';
import { renderScaleBlock } from './scale-block.ts';

const BLOCKS = [renderScaleBlock, renderKillBlock, renderLoadBlock, renderEscapesBlock];

export function renderReliabilityDoc(page: string): string {
  return BLOCKS.reduce((text, render) => render(text), page);
}
