/**
 * Text from an input file shown on a terminal: control characters (C0, DEL,
 * C1) and bidirectional overrides written as \u escapes, so a command or name
 * in a file cannot move the cursor, clear the screen, retitle the window or
 * reorder what is shown.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function hasUnprintable(text: string): boolean {
  return text.search(UNPRINTABLE) !== -1;
}

/** `text` with each unprintable character as \uXXXX; the rest as is. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON.stringify(text) with what JSON leaves raw (DEL, C1, bidirectional controls) escaped too. */
export function quoted(text: string): string {
  return printable(JSON.stringify(text));
}

/** A message of several lines for a terminal: each line printable, the line breaks kept. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
