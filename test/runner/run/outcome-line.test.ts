import { describe, expect, it } from 'vitest';
import { outcomeLine } from '../../../runner/run/progress.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('outcomeLine (progress of a finished cell)', () => {
  it('says a skip reason in full once, then names the cell that had it first', () => {
    const reason = 'backend docker unavailable: docker CLI present but no engine answers';
    const { cells } = buildArtifact({
      cells: [
        { params: { backend: 'docker', concurrency: 1 }, status: 'skipped', reason },
        { params: { backend: 'docker', concurrency: 4 }, status: 'skipped', reason },
        { params: { backend: 'podman', concurrency: 1 }, status: 'skipped', reason: 'podman not on PATH' },
      ],
    });
    const said = new Map<string, string>();
    expect(cells.map((cell) => outcomeLine(cell, said))).toEqual([
      `skipped: ${reason}`,
      'skipped: same reason as backend=docker,concurrency=1',
      'skipped: podman not on PATH',
    ]);
  });
});
