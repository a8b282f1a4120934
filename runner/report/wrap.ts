/** Text folded at spaces to a width, for reasons, warnings and commands that outgrow one line. */

/**
 * Lines of at most `width` characters: the first starts with `first`, the rest
 * with `rest` (a hanging indent). A word longer than a line (a URL) is cut.
 */
export function wrapText(text: string, width: number, first = '', rest = ' '.repeat(first.length)): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  const room = (prefix: string) => Math.max(1, width - prefix.length);
  for (let word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length <= width) {
      line += ` ${word}`;
      continue;
    }
    if (!empty) {
      lines.push(line);
      line = rest;
    }
    // A word wider than the room left after the indent is cut across lines.
    while (word.length > room(line)) {
      lines.push(line + word.slice(0, room(line)));
      word = word.slice(room(line));
      line = rest;
    }
    line += word;
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}
