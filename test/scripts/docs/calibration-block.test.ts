/** The README's gate figures are what scripts/docs/calibration-block.ts makes from results/ now. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, renderCalibration, renderReadme } from '../../../scripts/docs/calibration-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('README gate figures', () => {
  it('match the newest gate-calibration artifact (regenerate with `npm run docs`)', () => {
    const committed = readFileSync(README, 'utf8');
    expect(committed === renderReadme(committed), `${README} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });

  it('count the trials a gate failed, per gate and slowdown', () => {
    const cells = [0, 2, 5, 10].flatMap((slowdown_pct) =>
      ['paired', 'cross-run'].map((gate) => ({ params: { gate, slowdown_pct }, samples: { gate_failed: slowdown_pct === 0 ? [0, 0, 0, 1] : [1, 1, 0, 1] } })),
    );
    const artifact = buildArtifact({ rig: 'gate-calibration', cells, metrics: { gate_failed: { unit: 'share of trials', better: 'lower', clock: 'a -> b' } } });
    const text = renderCalibration(artifact, 'results/gate-calibration/x.json').join('\n');
    expect(text).toContain('| `rigor ab` (paired) | 25% (1/4) | 75% (3/4) | 75% (3/4) | 75% (3/4) |');
  });
});
