/** What the schema cannot say about cells: unique ids, each metric as the rig defines it, no negative duration, count or rate. */
import { describe, expect, it } from 'vitest';
import { consistencyProblems, nonNegativeBecause } from '../../../runner/artifact/consistency.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('consistencyProblems', () => {
  it('finds nothing in a built artifact', () => {
    expect(consistencyProblems(buildArtifact({ cells: [{ params: { a: 1 } }, { params: { a: 2 } }] }))).toEqual([]);
  });

  it('names the second cell with an id taken, which compare and gate would match to the first', () => {
    const artifact = buildArtifact({ cells: [{ params: { a: 1 } }, { params: { a: 2 } }, { params: { a: 3 } }] });
    artifact.cells[2]!.id = artifact.cells[0]!.id;
    expect(consistencyProblems(artifact)).toEqual(['  at /cells/2/id: expected a cell id no other cell has; found "a=1", the id of /cells/0 too']);
  });

  it('names a metric measured with another unit, clock or direction than the rig\'s', () => {
    const artifact = buildArtifact({ cells: [{ params: { a: 1 } }] });
    artifact.cells[0]!.metrics.time_ms!.better = 'higher';
    expect(consistencyProblems(artifact)).toEqual(['  at /cells/0/metrics/time_ms/better: expected the rig\'s better of time_ms, "lower"; found "higher"']);
  });

  it('refuses a negative duration, count or rate, and allows a negative size (a difference of two)', () => {
    expect(nonNegativeBecause({ unit: 'ms' })).toBe('a duration (ms)');
    expect(nonNegativeBecause({ unit: 'instructions', kind: 'counted' })).toBe('a count (instructions)');
    expect(nonNegativeBecause({ unit: 'MiB/s' })).toBe('a rate (MiB/s)');
    expect(nonNegativeBecause({ unit: 'MiB' })).toBeNull();
    const sizes = buildArtifact({ metrics: { drop_mib: { unit: 'MiB', better: 'lower', clock: 'before -> after' } }, cells: [{ params: { a: 1 }, samples: { drop_mib: [-3, 2] } }] });
    expect(consistencyProblems(sizes)).toEqual([]);
  });

  it('allows a negative duration in a metric the rig declares signed (a difference of two round trips)', () => {
    expect(nonNegativeBecause({ unit: 'ms', signed: true })).toBeNull();
    const metrics = { added_ms: { unit: 'ms', better: 'lower' as const, signed: true, clock: 'two execs called -> both decoded' } };
    expect(consistencyProblems(buildArtifact({ metrics, cells: [{ params: { a: 1 }, samples: { added_ms: [-0.8, 1.2] } }] }))).toEqual([]);
  });
});
