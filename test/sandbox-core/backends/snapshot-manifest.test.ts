/** What every backend's snapshot directory shares: a manifest read through a schema, and files checked against their digests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkFile, digestOf, parseManifestWith, readManifest } from '../../../sandbox-core/backends/snapshot-manifest.ts';

const schema = z.object({ format: z.literal('x'), files: z.object({ a: z.object({ bytes: z.number().int() }) }) });
const root = mkdtempSync(join(tmpdir(), 'rigor-snapshot-manifest-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('parseManifestWith', () => {
  it('returns what the schema reads, or names the file, the field and what it found', () => {
    expect(parseManifestWith(schema, '{"format":"x","files":{"a":{"bytes":1}}}', 'm.json')).toEqual({ format: 'x', files: { a: { bytes: 1 } } });
    expect(() => parseManifestWith(schema, '{"format":"x","files":{"a":{"bytes":"1"}}}', 'm.json')).toThrow(/^m\.json: field files\.a\.bytes: .*found "1"$/);
    expect(() => parseManifestWith(schema, '{"format":"x"}', 'm.json')).toThrow(/^m\.json: field files: .*found nothing$/);
    expect(() => parseManifestWith(schema, 'nope', 'm.json')).toThrow(/^m\.json: not JSON/);
  });
});

describe('readManifest, digestOf and checkFile', () => {
  it('says a directory without manifest.json is not a (finished) snapshot', async () => {
    await expect(readManifest(root, schema)).rejects.toThrow(`snapshot ${root}: no manifest.json (not a snapshot directory, or one whose save did not finish)`);
  });

  it('accepts a file as the manifest digests it, and names both sides when it differs or is missing', async () => {
    writeFileSync(join(root, 'img'), 'abc');
    const digest = await digestOf(join(root, 'img'));
    expect(digest).toEqual({ bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' });
    await expect(checkFile(root, 'img', digest)).resolves.toBeUndefined();
    writeFileSync(join(root, 'img'), 'abd');
    await expect(checkFile(root, 'img', digest)).rejects.toThrow(/img: 3 bytes with sha256 \w{12}…, manifest\.json says 3 bytes with ba7816bf8f01…: the file is damaged/);
    await expect(checkFile(root, 'gone', digest)).rejects.toThrow(`snapshot ${root}: gone: ENOENT`);
  });
});
