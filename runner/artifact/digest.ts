/**
 * An artifact's content digest: sha256 over its canonical form, stored in the
 * artifact as `content_sha256`. The canonical form is the artifact without
 * that field, as JSON with every object's keys sorted (by UTF-16 code unit, as
 * Array.prototype.sort does), no whitespace, numbers as JSON.stringify writes
 * them (the shortest text that reads back as the same double), in UTF-8. It
 * tells an edit made after writing by anyone who did not recompute it; it is
 * not a signature (docs/artifacts-and-statistics.md).
 */
import { createHash } from 'node:crypto';
import { BOOTSTRAP_EXACT_MAX_N, BOOTSTRAP_LEVEL, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED } from '../stats/bootstrap.ts';
import type { Artifact } from './schema.ts';

export const DIGEST_FIELD = 'content_sha256';

/**
 * JSON of `value` with object keys sorted at every depth and no whitespace:
 * what JSON.stringify writes of a copy whose objects were rebuilt with their
 * keys inserted in sorted order (so integer-like keys come first, ascending,
 * as a JavaScript object enumerates them).
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  const root = resolved('', value);
  if (omitted(root)) return JSON.stringify(root);
  writeCanonical(root, (text) => parts.push(text));
  return parts.join('');
}

/** sha256 (hex) of the artifact's canonical form; a stored digest is left out of what it covers. */
export function contentDigest(artifact: Artifact): string {
  const { [DIGEST_FIELD]: _stored, ...content } = artifact;
  const hash = createHash('sha256');
  // Fed piece by piece: the canonical text of 10^6 samples is never one 19 MB string (and its copies) in memory.
  writeCanonical(content, (text) => hash.update(text, 'utf8'));
  return hash.digest('hex');
}

/** An array of numbers is written this many at a time by JSON.stringify: its native speed, without one string of the whole array. */
const NUMBERS_AT_ONCE = 65_536;

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
function omitted(node: unknown): boolean {
  return node === undefined || typeof node === 'function' || typeof node === 'symbol';
}

/** The value JSON.stringify writes for `node` held under `key`: its toJSON(key) when it has one. */
function resolved(key: string, node: unknown): unknown {
  if (node !== null && typeof node === 'object' && typeof (node as { toJSON?: unknown }).toJSON === 'function') {
    return (node as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  return node;
}

/** Writes the canonical text of `node` (resolved, not omitted) in pieces, each whole tokens. */
function writeCanonical(node: unknown, write: (text: string) => void): void {
  if (node === null || typeof node !== 'object') {
    write(JSON.stringify(node));
    return;
  }
  if (Array.isArray(node)) {
    if (node.length > 0 && node.every((item) => typeof item === 'number')) {
      for (let i = 0; i < node.length; i += NUMBERS_AT_ONCE) {
        const text = JSON.stringify(node.slice(i, i + NUMBERS_AT_ONCE));
        write(i === 0 ? text.slice(0, -1) : `,${text.slice(1, -1)}`);
      }
      write(']');
      return;
    }
    write('[');
    node.forEach((item, i) => {
      if (i > 0) write(',');
      const value = resolved(String(i), item);
      if (omitted(value)) write('null');
      else writeCanonical(value, write);
    });
    write(']');
    return;
  }
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(node).sort()) sorted[name] = (node as Record<string, unknown>)[name];
  write('{');
  let first = true;
  for (const name of Object.keys(sorted)) {
    const value = resolved(name, sorted[name]);
    if (omitted(value)) continue;
    write(`${first ? '' : ','}${JSON.stringify(name)}:`);
    first = false;
    writeCanonical(value, write);
  }
  write('}');
}

/** The bootstrap every interval of this rigor is drawn with (stats/bootstrap.ts defaults; nothing passes others). */
export const BOOTSTRAP_RECORD = { seed: BOOTSTRAP_SEED, resamples: BOOTSTRAP_RESAMPLES, level: BOOTSTRAP_LEVEL, exact_max_n: BOOTSTRAP_EXACT_MAX_N } as const;

/** The artifact as written (write.ts): the bootstrap its intervals were drawn with, then the digest over everything. */
export function sealArtifact(artifact: Artifact): Artifact {
  const recorded = { ...artifact, bootstrap: artifact.bootstrap ?? { ...BOOTSTRAP_RECORD } };
  return { ...recorded, [DIGEST_FIELD]: contentDigest(recorded) };
}

/** A stored digest that does not match the content, as a line formatSchemaErrors would write; null when it matches or there is none. */
export function digestProblem(artifact: Artifact): string | null {
  const stored = artifact[DIGEST_FIELD];
  if (stored === undefined) return null;
  const recomputed = contentDigest(artifact);
  if (stored === recomputed) return null;
  return `  at /${DIGEST_FIELD}: stored ${stored}; recomputed ${recomputed} (the artifact changed after it was written)`;
}
