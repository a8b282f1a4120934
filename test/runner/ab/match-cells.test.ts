import { describe, expect, it } from 'vitest';
import { matchCells, rigName } from '../../../runner/ab/run-ab.ts';
import type { PlannedSideCell } from '../../../runner/ab/protocol.ts';

const cell = (id: string, status: PlannedSideCell['status'] = 'ready', reason?: string): PlannedSideCell => ({
  id,
  params: { id },
  status,
  ...(reason ? { reason } : {}),
  iterations: 10,
  warmup: 1,
  concurrency: 1,
});

describe('matchCells', () => {
  it('measures a cell only when both sides have it ready, and says why not otherwise', () => {
    const matched = matchCells([cell('a'), cell('b', 'skipped', 'no docker'), cell('old')], [cell('a'), cell('b'), cell('new')]);
    expect(matched.map((m) => [m.id, m.reason ?? 'measured'])).toEqual([
      ['a', 'measured'],
      ['b', 'skipped on the base side: no docker'],
      ['new', "the base side's rig has no such cell"],
      ['old', "the head side's rig has no such cell"],
    ]);
  });
});

describe('rigName', () => {
  it('takes a name or a rig path', () => {
    expect(rigName('startup')).toBe('startup');
    expect(rigName('rigs/startup.rig.yaml')).toBe('startup');
  });
});
