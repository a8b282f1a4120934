import { quoted } from './printable.ts';

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
  // YAML's !!binary and !!timestamp are data too; anything else JSON cannot say (a function reached through a key like "toString") by its type
  if (value instanceof Uint8Array) return `binary data of ${value.length} bytes`;
  if (value instanceof Date) return 'a timestamp';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'bigint') return String(value);
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `a ${typeof value}`;
  const text = typeof value === 'string' ? quoted(value) : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
