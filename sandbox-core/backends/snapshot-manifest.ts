/**
 * What every backend's snapshot directory shares: a manifest.json read with
 * every field checked against the backend's schema (an error names the file,
 * the field, what was expected and what was found), and the files beside it
 * checked against the sizes and digests the manifest gives. Each backend's
 * own schema and host check are in its folder (qemu/, gvisor/).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { SandboxSpec } from './types.ts';

export const MANIFEST_FILE = 'manifest.json';

/** The fields every manifest opens with (spread into its schema): what wrote it, in which version, and when. */
export function manifestHeader<F extends string, V extends number>(format: F, version: V) {
  return { format: z.literal(format), version: z.literal(version), saved_at: z.string() };
}
/** A file's size and sha256 as a manifest gives them. */
export const digestSchema = z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
/** The agent as the save left it: its HELLO and the next request id, which a restore adopts. */
export const savedAgentSchema = z.object({
  hello: z.object({ version: z.string(), kind: z.string(), stages: z.array(z.object({ name: z.string(), ms: z.number() })) }),
  next_id: z.number().int().min(1).max(0xffffffff),
});

/** The manifest in `text` as `schema` reads it, or an error naming the file, the field, what was expected and what was found; `what` names the directory's kind. */
export function parseManifestWith<T>(schema: z.ZodType<T>, text: string, file: string, what = 'snapshot'): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message}); the ${what} is damaged or was not written by rigor`);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join('.') : '(the whole file)';
  let found: unknown = value;
  for (const key of issue.path) found = found !== null && typeof found === 'object' ? (found as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
  throw new Error(`${file}: field ${path}: ${issue.message}; found ${found === undefined ? 'nothing' : JSON.stringify(found)}`);
}

/** `dir`'s manifest.json read with `schema`; a missing one is named as an unfinished or foreign directory. */
export async function readManifest<T>(dir: string, schema: z.ZodType<T>): Promise<T> {
  const file = join(dir, MANIFEST_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `snapshot ${dir}: no ${MANIFEST_FILE} (not a snapshot directory, or one whose save did not finish)` : `${file}: ${error.message}`);
  });
  return parseManifestWith(schema, text, file);
}

export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** Size and sha256 of `file`, read as a stream (a checkpoint image need not fit in memory twice). */
export async function digestOf(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Checks `dir`/`name` against what the manifest says of it; errors name the file and both sides. */
export async function checkFile(dir: string, name: string, expected: FileDigest): Promise<void> {
  const file = join(dir, name);
  await stat(file).catch((error: Error) => {
    throw new Error(`snapshot ${dir}: ${name}: ${error.message}`);
  });
  const found = await digestOf(file);
  if (found.bytes !== expected.bytes || found.sha256 !== expected.sha256) {
    throw new Error(`${file}: ${found.bytes} bytes with sha256 ${found.sha256.slice(0, 12)}…, ${MANIFEST_FILE} says ${expected.bytes} bytes with ${expected.sha256.slice(0, 12)}…: the file is damaged`);
  }
}

/** The fields `keys` of `spec` that are set: what a snapshot or fork records of the spec its restored sandbox gets (egress and host-side policies are never carried). */
export function savedSpec<K extends keyof SandboxSpec>(spec: SandboxSpec, keys: readonly K[]): Pick<SandboxSpec, K> {
  return Object.fromEntries(keys.filter((key) => spec[key] !== undefined).map((key) => [key, spec[key]])) as Pick<SandboxSpec, K>;
}
