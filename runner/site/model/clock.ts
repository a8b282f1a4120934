/** A metric's clock, "<start event> -> <stop event>", split for table headers. */

export function splitClock(clock: string): { start: string; stop: string } {
  const match = /\s->\s/.exec(clock);
  if (!match) return { start: clock, stop: '' };
  return { start: clock.slice(0, match.index).trim(), stop: clock.slice(match.index + match[0].length).trim() };
}
