/** Progress lines: cell x of y, sample i of n, time left; redrawn on a terminal, logged sparsely elsewhere. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, estimateSecondsLeft, formatDuration, outcomeLine } from '../../../runner/run/progress.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, sink: { isTTY, columns: 80, write: (text: string) => writes.push(text) } as unknown as NodeJS.WriteStream };
}

describe('estimateSecondsLeft', () => {
  it('is the time per run so far times the runs left, plus the later cells at their mean', () => {
    // 10 of 40 runs in 5 s: 0.5 s a run, 15 s left here, then 2 cells of 30 s.
    expect(estimateSecondsLeft({ elapsedInCellS: 5, runsDoneInCell: 10, runsPlannedInCell: 40, cellsLeftAfterThis: 2, meanCellSeconds: 30 })).toBe(75);
  });

  it('estimates later cells from this one when none has finished', () => {
    expect(estimateSecondsLeft({ elapsedInCellS: 2, runsDoneInCell: 4, runsPlannedInCell: 8, cellsLeftAfterThis: 1, meanCellSeconds: null })).toBe(2 + 4);
  });

  it('knows nothing before the first run of the first cell', () => {
    expect(estimateSecondsLeft({ elapsedInCellS: 0, runsDoneInCell: 0, runsPlannedInCell: 8, cellsLeftAfterThis: 3, meanCellSeconds: null })).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [0.2, '1s'],
    [59, '59s'],
    [61, '1m01s'],
    [3725, '1h02m'],
  ])('%s s reads %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});

describe('createProgress', () => {
  it('on a terminal redraws one line with cell, sample and time left', () => {
    const { writes, sink } = stream(true);
    const progress = createProgress(sink);
    progress.cellStart(2, 5, 'program=sh', 10);
    progress.sample({ phase: 'sample', done: 10, total: 10 });
    const line = writes.join('');
    expect(line).toContain('\r\x1b[2K[cell 2/5] program=sh  sample 10/10');
    expect(line).toMatch(/~\d+s left/);
    progress.cellEnd(2, 5, 'program=sh', 'wall_ms median 1 ms');
    expect(writes.at(-1)).toBe('[cell 2/5] program=sh: wall_ms median 1 ms\n');
  });

  it('in a log prints whole lines, and no sample line in the first 2 s of a cell', () => {
    const { writes, sink } = stream(false);
    const progress = createProgress(sink);
    progress.cellStart(1, 1, 'default', 3);
    for (let i = 1; i <= 3; i++) progress.sample({ phase: 'sample', done: i, total: 3 });
    progress.cellEnd(1, 1, 'default', 'done');
    expect(writes).toEqual(['[cell 1/1] default: sampling 3\n', '[cell 1/1] default: done\n']);
    expect(writes.join('')).not.toContain('\r');
  });

  describe('in a log, within a cell', () => {
    afterEach(() => vi.useRealTimers());

    /** A cell of `runs` samples, one every `everyMs` of (fake) time; the lines written during it. */
    function logCell(runs: number, everyMs: number): string[] {
      vi.useFakeTimers({ toFake: ['performance'] });
      const { writes, sink } = stream(false);
      const progress = createProgress(sink);
      progress.cellStart(3, 14, 'level=9', runs);
      for (let done = 1; done <= runs; done++) {
        vi.advanceTimersByTime(everyMs);
        progress.sample({ phase: 'sample', done, total: runs });
      }
      return writes.slice(1);
    }

    it('shows progress 2 s into a cell, then after 4 s, 8 s, and every 10 s: a cell of seconds is not silent', () => {
      // 20 samples, one a second: lines at 2, 6 and 14 s
      const lines = logCell(20, 1000);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^\[cell 3\/14\] level=9 {2}sample 2\/20 {2}~\S+ left\n$/);
      expect(lines.map((line) => /sample (\d+)\//.exec(line)![1])).toEqual(['2', '6', '14']);
    });

    it('in a long cell, a line every 10 s at most', () => {
      // 600 samples over 10 minutes: 2, 6, 14, then every 10 s up to 594 → 3 + 58 lines
      expect(logCell(600, 1000)).toHaveLength(61);
    });
  });

  it('says nothing when quiet', () => {
    const { writes, sink } = stream(true);
    const progress = createProgress(sink, true);
    progress.cellStart(1, 1, 'default', 3);
    progress.sample({ phase: 'sample', done: 3, total: 3 });
    progress.cellEnd(1, 1, 'default', 'done');
    progress.note('hello');
    expect(writes).toEqual([]);
  });
});

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

  it('names the statistic it shows: the median, or the slope of a batched metric', () => {
    const { cells } = buildArtifact({
      cells: [
        { params: { task: 'a' }, samples: { time_ms: [1, 2, 3] } },
        // Batches of 10, 20, 30 calls at 0.2, 0.25, 1/6 ms a call: slope 27/140 ≈ 0.193 ms.
        { params: { task: 'b' }, samples: { time_ms: [0.2, 0.25, 5 / 30] }, batches: { time_ms: [10, 20, 30] } },
      ],
    });
    expect(cells.map((cell) => outcomeLine(cell))).toEqual(['time_ms median 2.00 ms (n=3)', 'time_ms slope 0.193 ms (n=3)']);
  });
});
