/** Artifacts are validated before writing, written atomically, and never replace an existing file. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { artifactFileName, fileStamp, writeArtifact } from '../../../runner/artifact/write.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rigor-write-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const artifact = (): Artifact =>
  buildArtifact({ cells: [{ params: { program: 'sh' }, samples: { time_ms: lognormalSamples(10, 1, 0.1, 1) } }] });

describe('writeArtifact', () => {
  it('names the file <UTC stamp>_<commit7>_<host-id>.json and writes what it was given', () => {
    const a = artifact();
    const path = writeArtifact(a, dir);
    expect(path).toBe(join(dir, artifactFileName(a)));
    expect(artifactFileName(a)).toMatch(new RegExp(`^${fileStamp(a.run.started_at)}_${a.git.commit!.slice(0, 7)}_${a.host.id}\\.json$`));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(a);
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

  it('leaves no temp file behind', () => {
    writeArtifact(artifact(), dir);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
