/**
 * A mistake in what the user gave us (a rig, an artifact, a flag). The CLI
 * prints the message alone, no stack trace, and exits 2.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/** "expected X, found Y" with the found value shown compactly. */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
