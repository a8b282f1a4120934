/** docs/reliability.md's figures (scale, kills, load, escapes) are what npm run docs makes from the newest artifacts. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReliabilityDoc } from '../../../scripts/docs/reliability-doc.ts';
import { RELIABILITY_DOC } from '../../../scripts/docs/results-doc.ts';

describe('docs/reliability.md', () => {
  it('matches the newest committed artifacts (regenerate with `npm run docs`)', () => {
    const committed = readFileSync(RELIABILITY_DOC, 'utf8');
    expect(committed === renderReliabilityDoc(committed), `${RELIABILITY_DOC} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });
});
