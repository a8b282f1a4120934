/**
 * Progress of a running rig on stderr: cell x of y, sample i of n, time left.
 * On a terminal one line is redrawn at most 10 times a second; elsewhere (CI
 * logs, a pipe) a line is printed when a cell starts and ends, and between:
 * 2 s into the cell, then each twice as long after the last, up to every 10 s,
 * so a cell of seconds shows its progress and an hour-long one does not flood the log.
 */
import { storedValue } from '../artifact/metric-value.ts';
import type { CellResult } from '../artifact/schema.ts';
import type { SampleProgress } from '../contract/workload.ts';

export interface ProgressSink {
  cellStart(index: number, total: number, cellId: string, plannedSamples: number): void;
  sample(progress: SampleProgress): void;
  cellEnd(index: number, total: number, cellId: string, outcome: string): void;
  note(message: string): void;
  /** A line that replaces the last (a round's progress): redrawn on a terminal, logged every 10 s elsewhere. */
  status(line: string): void;
  close(): void;
}

const REDRAW_MS = 100;
/** Without a terminal: the first progress line this long into a cell, then the gap doubles up to LOG_EVERY_MS. */
const LOG_FIRST_MS = 2_000;
const LOG_EVERY_MS = 10_000;

/** Time left: the mean time per run so far, times the runs not yet done in this and later cells. */
export function estimateSecondsLeft(input: {
  elapsedInCellS: number;
  runsDoneInCell: number;
  runsPlannedInCell: number;
  cellsLeftAfterThis: number;
  meanCellSeconds: number | null;
}): number | null {
  const { elapsedInCellS, runsDoneInCell, runsPlannedInCell, cellsLeftAfterThis, meanCellSeconds } = input;
  if (runsDoneInCell === 0) return meanCellSeconds === null ? null : meanCellSeconds * (cellsLeftAfterThis + 1);
  const perRun = elapsedInCellS / runsDoneInCell;
  const thisCell = perRun * Math.max(0, runsPlannedInCell - runsDoneInCell);
  const cellEstimate = meanCellSeconds ?? perRun * runsPlannedInCell;
  return thisCell + cellEstimate * cellsLeftAfterThis;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressSink {
  const interactive = Boolean(stream.isTTY) && !quiet;
  // samplingFrom: when the last warmup run ended, so warmup time does not skew time left.
  let cell = { index: 0, total: 0, id: '', started: 0, samplingFrom: 0 };
  const cellSeconds: number[] = [];
  let lastDraw = 0;
  /** Without a terminal, the gap before the next sample line of this cell. */
  let logGap = LOG_FIRST_MS;
  let lineShown = false;

  const clearLine = () => {
    if (lineShown) stream.write('\r\x1b[2K');
    lineShown = false;
  };
  const say = (text: string) => {
    if (quiet) return;
    clearLine();
    stream.write(`${text}\n`);
  };

  /** A progress line: redrawn in place on a terminal, a line of its own in a log. */
  const draw = (line: string) => {
    if (!interactive) {
      stream.write(`${line}\n`);
      return;
    }
    const width = (stream.columns || 100) - 1;
    stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
    lineShown = true;
  };

  return {
    cellStart(index, total, cellId, plannedSamples) {
      const now = performance.now();
      cell = { index, total, id: cellId, started: now, samplingFrom: now };
      lastDraw = now;
      logGap = LOG_FIRST_MS;
      if (!interactive) say(`[cell ${index}/${total}] ${cellId}: sampling ${plannedSamples}`);
    },
    sample(progress) {
      if (quiet) return;
      const now = performance.now();
      if (progress.phase === 'warmup') cell.samplingFrom = now;
      const every = interactive ? REDRAW_MS : logGap;
      if (now - lastDraw < every && (progress.done !== progress.total || !interactive)) return;
      lastDraw = now;
      if (!interactive) logGap = Math.min(2 * logGap, LOG_EVERY_MS);
      const mean = cellSeconds.length ? cellSeconds.reduce((a, b) => a + b, 0) / cellSeconds.length : null;
      const left =
        progress.phase === 'sample'
          ? estimateSecondsLeft({
              elapsedInCellS: (now - cell.samplingFrom) / 1000,
              runsDoneInCell: progress.done,
              runsPlannedInCell: progress.total,
              cellsLeftAfterThis: cell.total - cell.index,
              meanCellSeconds: mean,
            })
          : null;
      const what = progress.phase === 'warmup' ? 'warmup' : 'sample';
      const eta = left === null ? '' : `  ~${formatDuration(left)} left`;
      draw(`[cell ${cell.index}/${cell.total}] ${cell.id}  ${what} ${progress.done}/${progress.total}${eta}`);
    },
    cellEnd(index, total, cellId, outcome) {
      cellSeconds.push((performance.now() - cell.started) / 1000);
      say(`[cell ${index}/${total}] ${cellId}: ${outcome}`);
    },
    note(message) {
      say(message);
    },
    status(line) {
      if (quiet) return;
      const now = performance.now();
      if (now - lastDraw < (interactive ? REDRAW_MS : LOG_EVERY_MS)) return;
      lastDraw = now;
      draw(line);
    },
    close() {
      clearLine();
    },
  };
}

/** The progress line of a finished cell; a reason already said for an earlier cell is named by that cell. */
export function outcomeLine(cell: CellResult, reasonsSaid = new Map<string, string>()): string {
  if (cell.status !== 'ok') {
    const reason = cell.reason ?? 'no reason recorded';
    const first = reasonsSaid.get(reason);
    if (first !== undefined) return `${cell.status}: same reason as ${first}`;
    reasonsSaid.set(reason, cell.id);
    return `${cell.status}: ${reason}`;
  }
  const parts = Object.entries(cell.metrics).flatMap(([name, m]) => {
    const shown = storedValue(m);
    return shown ? [`${name} ${shown.stat} ${formatShort(shown.value)} ${m.unit} (n=${shown.n})`] : [];
  });
  return `${parts.join(', ')}${cell.truncated ? ` [truncated: ${cell.truncated}]` : ''}`;
}

function formatShort(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
