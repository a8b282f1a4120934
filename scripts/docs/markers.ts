/** Generated blocks inside hand-written pages: the lines between two HTML comment markers, made anew by `npm run docs`. */

/** `page` with the lines between `start` and `end` replaced by `lines`; throws naming `file` when a marker is missing. */
export function replaceBlock(page: string, file: string, start: string, end: string, lines: string[]): string {
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file}: expected the markers ${start} … ${end}, found none`);
  return `${page.slice(0, from + start.length)}\n${lines.join('\n')}\n${page.slice(to)}`;
}
