import { describe, expect, it } from 'vitest';
import type { AnsibleEvent } from '../../../runner/fleet/outcomes.ts';
import { coveredSeconds, RIG_TASK, rigSpans } from '../../../runner/fleet/timing.ts';

const at = (host: string, status: AnsibleEvent['status'], time: number, task = RIG_TASK): AnsibleEvent => ({ host, task, status, time });

describe('rigSpans', () => {
  it("takes each host's rig step from its start to its result, and a step that never ended to the run's end", () => {
    const spans = rigSpans([at('a', 'start', 10), at('a', 'ok', 14), at('b', 'start', 12), at('a', 'start', 1, 'copy: x')], 20);
    expect(Object.fromEntries(spans)).toEqual({ a: { start: 10, end: 14 }, b: { start: 12, end: 20 } });
  });
});

describe('coveredSeconds', () => {
  it('counts time in which any host measured once: overlapping spans merge, gaps do not count', () => {
    expect(coveredSeconds([{ start: 10, end: 14 }, { start: 12, end: 16 }, { start: 20, end: 21 }])).toBe(7);
    expect(coveredSeconds([])).toBe(0);
  });
});
