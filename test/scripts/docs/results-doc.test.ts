/** docs/results.md is what scripts/docs/results-doc.ts makes from results/ now. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listRigFiles, rigNameOf } from '../../../runner/rig/discover.ts';
import { GOALS } from '../../../scripts/docs/goals.ts';
import { RESULTS_DOC, newestArtifacts, renderResultsDoc } from '../../../scripts/docs/results-doc.ts';

describe('docs/results.md', () => {
  it('matches the newest committed artifacts (regenerate with `npm run docs`)', () => {
    const committed = readFileSync(RESULTS_DOC, 'utf8');
    expect(committed === renderResultsDoc(), `${RESULTS_DOC} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });

  it('has a section for every rig, naming its newest artifact', () => {
    const text = renderResultsDoc();
    for (const entry of newestArtifacts()) {
      expect(text).toContain(`## ${entry.rig}\n`);
      if (entry.artifactPath) expect(text).toContain(`(../${entry.artifactPath})`);
    }
    expect(newestArtifacts().map((n) => n.rig)).toEqual(listRigFiles().map(rigNameOf));
  });

  it('every goal names a rig, and every cell or ratio it names exists in that rig’s newest artifact', () => {
    const newest = newestArtifacts();
    for (const goal of GOALS) {
      const entry = newest.find((n) => n.rig === goal.rig);
      expect(entry, `goal "${goal.goal}": no rig ${goal.rig}`).toBeDefined();
      if (!entry?.artifact) continue;
      for (const check of goal.checks) {
        if ('ratio' in check) expect(entry.artifact.ratios?.map((r) => r.name), goal.goal).toContain(check.ratio);
        else {
          const id = 'summaryOf' in check ? check.summaryOf : check.cell;
          const cell = entry.artifact.cells.find((c) => c.id === id);
          expect(cell, `goal "${goal.goal}": no cell ${id} in ${entry.artifactPath}`).toBeDefined();
          if ('metric' in check) expect(Object.keys(cell!.metrics)).toContain(check.metric);
        }
      }
    }
  });

  it('shows a skipped cell with its reason', () => {
    const text = renderResultsDoc();
    expect(text).toMatch(/\| `backend=firecracker,concurrency=1` \| — \|.*\| skipped: backend firecracker unavailable/);
  });
});
