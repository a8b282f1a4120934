/** The content digest: sha256 of the canonical form, written with every artifact, and any later edit caught. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, contentDigest, digestProblem, sealArtifact } from '../../../runner/artifact/digest.ts';
import { readArtifact } from '../../../runner/artifact/read.ts';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { writeArtifact } from '../../../runner/artifact/write.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const SEED = 16_3;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('content digest', () => {
  it('canonical JSON sorts keys at every depth and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('property: the digest does not depend on key order or indentation, only on content', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        const reread = JSON.parse(JSON.stringify(value, null, 3));
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(canonicalJson(reread)).toBe(canonicalJson(value));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: the canonical form is what JSON.stringify writes with a sorting replacer (the definition, and how older digests were made)', () => {
    const byReplacer = (value: unknown) =>
      JSON.stringify(value, (_key, node: unknown) => {
        if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
        const sorted: Record<string, unknown> = {};
        for (const key of Object.keys(node).sort()) sorted[key] = (node as Record<string, unknown>)[key];
        return sorted;
      });
    // Integer-like keys ("10" before "9" sorted, yet an object enumerates 9 first), undefined members and elements, numbers of every kind.
    const key = fc.oneof(fc.string(), fc.nat({ max: 20 }).map(String));
    const leaf = fc.oneof(fc.jsonValue({ maxDepth: 0 }), fc.double(), fc.constant(undefined), fc.array(fc.double()));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node')), fc.dictionary(key, tie('node'))),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, value), (input) => {
        expect(canonicalJson(input)).toBe(byReplacer(input));
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(canonicalJson({ 10: 'a', 9: 'b', a: [1, undefined, 2.5] })).toBe('{"9":"b","10":"a","a":[1,null,2.5]}');
  });

  it('writes an array of numbers longer than one piece (65,536) as the one array it is, and hashes exactly that text', () => {
    const samples = Array.from({ length: 150_001 }, (_, i) => (i % 7 === 0 ? -i / 3 : i * 1e-7));
    const artifact = { ...buildArtifact({ cells: [{ params: { f: 'x' }, samples: { time_ms: [1, 2] } }] }), extra: [[], samples, [0.5]] } as unknown as Artifact;
    const text = canonicalJson(artifact);
    expect(text).toContain(`"extra":[[],${JSON.stringify(samples)},[0.5]]`);
    expect(contentDigest(artifact)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  it('writeArtifact stores the bootstrap and the digest, and the file reads back as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-digest-'));
    dirs.push(dir);
    const path = writeArtifact(buildArtifact({ cells: [{ params: { a: 1 }, samples: { time_ms: [1, 2, 3] } }] }), dir);
    const artifact = readArtifact(path);
    expect(artifact.bootstrap).toEqual({ seed: 0x7269676f, resamples: 2000, level: 0.95, exact_max_n: 100_000 });
    expect(artifact.content_sha256).toBe(contentDigest(artifact));
    expect(digestProblem(artifact)).toBeNull();
  });

  it('an edit after writing is reported with both digests; a file without one is not', () => {
    const sealed = sealArtifact(buildArtifact({ cells: [{ params: { a: 1 }, samples: { time_ms: [1, 2, 3] } }] }));
    const edited = { ...sealed, environment: { note: 'added later' } };
    expect(digestProblem(edited)).toBe(`  at /content_sha256: stored ${sealed.content_sha256}; recomputed ${contentDigest(edited)} (the artifact changed after it was written)`);
    const { content_sha256: _dropped, ...unsealed } = edited;
    expect(digestProblem(unsealed)).toBeNull();
  });

  it('an edited file is refused on read, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-digest-'));
    dirs.push(dir);
    const path = writeArtifact(buildArtifact({ cells: [{ params: { a: 1 }, samples: { time_ms: [1, 2, 3] } }] }), dir);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"hostname": "test-host"', '"hostname": "other"'));
    expect(() => readArtifact(path)).toThrow(`${path}: not a valid rigor artifact:\n  at /content_sha256: stored`);
  });
});
