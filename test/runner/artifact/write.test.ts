/** Artifacts are validated before writing, written atomically, and never replace an existing file. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sealArtifact } from '../../../runner/artifact/digest.ts';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { artifactFileName, byArtifactAge, fileStamp, writeArtifact } from '../../../runner/artifact/write.ts';
import { artifactText, MAX_ARTIFACT_BYTES } from '../../../runner/artifact/size.ts';
import { InputError } from '../../../base/errors.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

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

describe('byArtifactAge', () => {
  it('puts a same-second -1 artifact after the one written first, and -10 after -2', () => {
    const names = ['20261205T053838Z_abc1234_h-10.json', '20261205T053838Z_abc1234_h-1.json', '20261205T053839Z_abc1234_h.json', '20261205T053838Z_abc1234_h.json', '20261205T053838Z_abc1234_h-2.json'];
    expect([...names].sort(byArtifactAge)).toEqual([
      '20261205T053838Z_abc1234_h.json',
      '20261205T053838Z_abc1234_h-1.json',
      '20261205T053838Z_abc1234_h-2.json',
      '20261205T053838Z_abc1234_h-10.json',
      '20261205T053839Z_abc1234_h.json',
    ]);
  });
});
