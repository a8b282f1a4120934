/** Artifacts are validated before writing, written atomically, and never replace an existing file. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sealArtifact } from '../../../runner/artifact/digest.ts';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { ArtifactWriteError, artifactFileName, assertWritableDestination, fileStamp, replaceFile, writeArtifact } from '../../../runner/artifact/write.ts';
import { artifactText, MAX_ARTIFACT_BYTES } from '../../../runner/artifact/size.ts';
import { InputError } from '../../../base/errors.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';
import { mountTmpfs, type SmallMount } from '../../helpers/small-mounts.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rigor-write-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const artifact = (): Artifact =>
  buildArtifact({ cells: [{ params: { program: 'sh' }, samples: { time_ms: lognormalSamples(10, 1, 0.1, 1) } }] });

describe('writeArtifact', () => {
  it('names the file <UTC stamp>_<commit7>_<host-id>.json and writes what it was given, sealed (digest.ts)', () => {
    const a = artifact();
    const path = writeArtifact(a, dir);
    expect(path).toBe(join(dir, artifactFileName(a)));
    expect(artifactFileName(a)).toMatch(new RegExp(`^${fileStamp(a.run.started_at)}_${a.git.commit!.slice(0, 7)}_${a.host.id}\\.json$`));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(sealArtifact(a));
  });

  it('turns an ISO time into a sortable stamp', () => {
    expect(fileStamp('2026-11-22T01:02:03.456Z')).toBe('20261122T010203Z');
  });

  it('never replaces an existing artifact: a second write of the same name gets a suffix', () => {
    const a = artifact();
    const first = writeArtifact(a, dir);
    const before = readFileSync(first, 'utf8');
    const second = writeArtifact({ ...a, run: { ...a.run, id: 'another' } }, dir);
    expect(second).not.toBe(first);
    expect(second).toMatch(/-1\.json$/);
    expect(readFileSync(first, 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual([first, second].map((p) => p.slice(dir.length + 1)).sort());
  });

  it('does not write an invalid artifact, and says why', () => {
    const bad = artifact();
    (bad.cells[0] as { status: string }).status = 'done';
    expect(() => writeArtifact(bad, dir)).toThrow(/invalid and was not written[\s\S]*\/cells\/0\/status: expected one of ok, skipped, failed; found "done"/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an artifact over 2 MB, naming the cells and metrics that make it large, largest first, and writes nothing', () => {
    const big = buildArtifact({
      metrics: { time_ms: { unit: 'ms', better: 'lower', clock: 'spawn() called -> child exited' }, rss_kb: { unit: 'kB', better: 'lower', clock: 'child exited -> rusage read' } },
      cells: [
        { params: { program: 'sh' }, samples: { time_ms: lognormalSamples(10, 1, 0.1, 1) } },
        { params: { program: 'node' }, samples: { time_ms: lognormalSamples(90_000, 40, 0.1, 2), rss_kb: lognormalSamples(500, 9000, 0.1, 3) } },
      ],
    });
    expect(Buffer.byteLength(artifactText(big))).toBeGreaterThan(MAX_ARTIFACT_BYTES);
    expect(() => writeArtifact(big, dir)).toThrow(InputError);
    expect(() => writeArtifact(big, dir)).toThrow(
      new RegExp(
        '^.*\\.json: artifact is 2\\.\\d\\d MB, over the 2 MB limit, and was not written; largest first:\n' +
          '  cell program=node, metric time_ms: 2\\.\\d\\d MB \\(90000 samples\\)\n' +
          '  cell program=node, metric rss_kb: 0\\.01 MB \\(500 samples\\)\n' +
          '  cell program=sh, metric time_ms: 0\\.00 MB \\(10 samples\\)\n' +
          'Every raw sample is kept: take fewer',
      ),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not write a batched metric whose call counts do not pair with its samples', () => {
    const bad = artifact();
    bad.cells[0]!.metrics.time_ms!.batch_iterations = [10, 20];
    expect(() => writeArtifact(bad, dir)).toThrow(/invalid and was not written:\n  at \/cells\/0\/metrics\/time_ms\/batch_iterations: expected 10 call counts \(one per sample\); found 2$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves no temp file behind', () => {
    writeArtifact(artifact(), dir);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

/** An artifact of about 150 kB: more than the 64 KiB file system below holds. */
const large = (): Artifact =>
  buildArtifact({ cells: [{ params: { program: 'sh' }, samples: { time_ms: lognormalSamples(5_000, 1, 0.1, 7) } }] });

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

describe.skipIf(process.getuid?.() !== 0)('writing on a full disk or a read-only folder (real tmpfs mounts; needs root)', () => {
  let full: SmallMount;
  let readOnly: SmallMount;
  beforeAll(() => {
    full = mountTmpfs(64);
    readOnly = mountTmpfs(64, { readOnly: true, fill: (path) => writeFileSync(join(path, 'a-file'), 'x') });
  });
  afterAll(() => {
    full?.remove();
    readOnly?.remove();
  });
  afterEach(() => {
    for (const name of readdirSync(full.path)) rmSync(join(full.path, name), { recursive: true, force: true });
  });

  it('a short write is not linked into place: write() is looped until every byte is written, and a full disk is an error naming the file', () => {
    // Before: writeSync wrote 65,536 bytes of ~150 kB, its count was ignored, and a truncated artifact was linked in.
    const a = large();
    const error = errorOf(() => writeArtifact(a, join(full.path, 'startup')));
    expect(error).toBeInstanceOf(ArtifactWriteError);
    expect(error.message).toBe(`${join(full.path, 'startup', artifactFileName(a))}: cannot write: no space left on the device (ENOSPC)`);
    expect((error as ArtifactWriteError).code).toBe('ENOSPC');
    // No artifact, no .<name>.<pid>.tmp: the folder is empty.
    expect(readdirSync(join(full.path, 'startup'))).toEqual([]);
  });

  it('an artifact that fits is written whole', () => {
    const a = artifact();
    const path = writeArtifact(a, full.path);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(sealArtifact(a));
  });

  it('a read-only folder is an error naming the file, with nothing left behind', () => {
    const a = artifact();
    const error = errorOf(() => writeArtifact(a, readOnly.path));
    expect(error).toBeInstanceOf(ArtifactWriteError);
    expect(error.message).toBe(`${join(readOnly.path, artifactFileName(a))}: cannot write: a read-only file system (EROFS)`);
    expect(readdirSync(readOnly.path)).toEqual(['a-file']);
  });

  it('the destination check refuses a read-only folder, a folder to be made in one, and a file, before anything is measured', () => {
    expect(() => assertWritableDestination(readOnly.path)).toThrow(`${readOnly.path}: cannot write artifacts there: a read-only file system (EROFS)`);
    expect(() => assertWritableDestination(join(readOnly.path, 'results', 'startup'))).toThrow(
      `${join(readOnly.path, 'results', 'startup')}: cannot write artifacts there (checked in ${readOnly.path}, which would hold it): a read-only file system (EROFS)`,
    );
    expect(() => assertWritableDestination(join(readOnly.path, 'a-file'))).toThrow(`${join(readOnly.path, 'a-file')}: cannot write artifacts there: it is a file, not a folder`);
    expect(() => assertWritableDestination(join(readOnly.path, 'a-file', 'x'))).toThrow(`cannot write artifacts there: ${join(readOnly.path, 'a-file')} is a file, not a folder`);
  });

  it('replaceFile on a full disk leaves the old file whole and no temp file', () => {
    const path = join(full.path, 'export.json');
    writeFileSync(path, 'old\n');
    const error = errorOf(() => replaceFile(path, 'x'.repeat(100_000)));
    expect(error.message).toBe(`${path}: cannot write: no space left on the device (ENOSPC)`);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    expect(readdirSync(full.path)).toEqual(['export.json']);
  });
});

describe('assertWritableDestination', () => {
  it('passes a writable folder, and one still to be made, without making it or leaving a probe file', () => {
    assertWritableDestination(dir);
    assertWritableDestination(join(dir, 'results', 'startup'));
    expect(existsSync(join(dir, 'results'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an --out that is a file, and a write there says so too', () => {
    const file = join(dir, 'out.json');
    writeFileSync(file, '{}');
    expect(() => assertWritableDestination(file)).toThrow(`${file}: cannot write artifacts there: it is a file, not a folder`);
    expect(() => writeArtifact(artifact(), file)).toThrow(new ArtifactWriteError(`${file}: cannot write artifacts there: it is a file, not a folder`, 'ENOTDIR'));
    expect(readdirSync(dir)).toEqual(['out.json']);
  });
});
