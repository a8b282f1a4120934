/**
 * Where a fleet run's time went: the spans in which hosts ran `rigor run` (the
 * rig step's start and result, as the callback stamps them) and the rest, the
 * fleet's own overhead. Pure.
 */
import type { AnsibleEvent } from './outcomes.ts';

export const RIG_TASK = 'rig: rigor run';

export interface Span {
  start: number;
  end: number;
}

/** Each host's span of the rig step, in seconds since the epoch; a host that never ended it (killed, interrupted) ends at `until`. */
export function rigSpans(events: readonly AnsibleEvent[], until: number): Map<string, Span> {
  const spans = new Map<string, Span>();
  for (const event of events) {
    if (event.task !== RIG_TASK || typeof event.time !== 'number') continue;
    if (event.status === 'start') spans.set(event.host, { start: event.time, end: until });
    else {
      const span = spans.get(event.host);
      if (span) span.end = Math.min(event.time, until);
    }
  }
  return spans;
}

/** Seconds covered by at least one span: hosts measuring side by side count once. */
export function coveredSeconds(spans: Iterable<Span>): number {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let current: Span | null = null;
  for (const span of sorted) {
    if (current && span.start <= current.end) current.end = Math.max(current.end, span.end);
    else {
      if (current) total += current.end - current.start;
      current = { ...span };
    }
  }
  return current ? total + current.end - current.start : total;
}
