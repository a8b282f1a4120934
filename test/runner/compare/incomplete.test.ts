import { describe, expect, it } from 'vitest';
import { whyIncomplete } from '../../../runner/compare/incomplete.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const cells = [{ params: { program: 'true' }, samples: { time_ms: [1, 2, 3] } }];

describe('whyIncomplete', () => {
  it('takes a complete run, also one that pinned matrix axes or took more iterations than the rig asks', () => {
    expect(whyIncomplete(buildArtifact({ cells }))).toBeNull();
    expect(whyIncomplete(buildArtifact({ cells, overrides: { program: 'true' } }))).toBeNull();
    expect(whyIncomplete(buildArtifact({ cells, iterations: 20, overrides: { iterations: 50 } }))).toBeNull();
  });

  it('names interrupted, failed and trial runs', () => {
    expect(whyIncomplete(buildArtifact({ cells, status: 'interrupted' }))).toBe('the run was interrupted');
    expect(whyIncomplete(buildArtifact({ cells, status: 'failed' }))).toBe('the run failed');
    expect(whyIncomplete(buildArtifact({ cells, trial: true }))).toBe('a trial run (rigor run --trial)');
  });

  it('names a run that took fewer samples than its rig asks, by --iterations or --set sampling.iterations', () => {
    expect(whyIncomplete(buildArtifact({ cells, iterations: 20, overrides: { iterations: 2 } }))).toBe("--iterations 2: fewer samples than the rig's 20");
    expect(whyIncomplete(buildArtifact({ cells, iterations: 20, overrides: { 'sampling.iterations': 3 } }))).toBe(
      "--set sampling.iterations=3: fewer samples than the rig's 20",
    );
  });

  it('takes what it cannot read as complete: reading the file is where it is refused', () => {
    expect(whyIncomplete({})).toBeNull();
    expect(whyIncomplete(null)).toBeNull();
  });
});
