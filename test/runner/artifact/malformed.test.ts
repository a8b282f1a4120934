/** Each malformed artifact fixture is refused with the error it must give: where, what was expected, what was found. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readArtifact } from '../../../runner/artifact/read.ts';
import { InputError } from '../../../base/errors.ts';
import { rigor } from '../../helpers/cli.ts';

const DIR = 'test/fixtures/artifacts/bad';

const expected: Record<string, string> = {
  'batch-iterations-short': 'at /cells/0/metrics/time_ms/batch_iterations: expected 5 call counts (one per sample); found 4',
  'cell-status-done': 'at /cells/0/status: expected one of ok, skipped, failed; found "done"',
  'cell-id-twice': 'at /cells/1/id: expected a cell id no other cell has; found "program=sh", the id of /cells/0 too',
  'cell-unit-differs': 'at /cells/0/metrics/time_ms/unit: expected the rig\'s unit of time_ms, "ms"; found "s"',
  'cells-not-a-list': 'at /cells: expected array; found a mapping',
  'digest-mismatch': 'at /content_sha256: stored ae0843e86d29f24714f9abf8082f82ffda6324165159a4c246e502ef52248e3f; recomputed 46b413a5247a653d2ef78806fd5c7c5fbfc77a8d2ad97340b0e00052a0b8735f (the artifact changed after it was written)',
  'gate-verdict-ok': 'at /gates/0/verdict: expected one of pass, fail, skipped, needs-baseline; found "ok"',
  'git-dirty-string': 'at /git/dirty: expected boolean; found "yes"',
  'host-id-with-space': 'at /host/id: expected pattern "^[a-z0-9][a-z0-9-]*$"; found "My Host"',
  'kvm-status-maybe': 'at /host/virtualization/kvm/status: expected one of usable, absent, present-but-unusable, unprobed; found "maybe"',
  'load-two-values': 'at /host/load/before: expected at least 3 items; found a list of 2',
  'metric-better-faster': 'at /cells/0/metrics/time_ms/better: expected one of lower, higher; found "faster"',
  'metric-clock-without-arrow': 'at /cells/0/metrics/time_ms/clock: expected pattern',
  'missing-host': 'at (top level): missing field "host"',
  'missing-schema': 'at (top level): missing field "schema"',
  'outlier-method-iqr': 'at /cells/0/metrics/time_ms/summary/outliers/method: expected "modified-z-score"; found "iqr"',
  'rig-definition-bad-name': 'at /rig/definition/name: expected pattern "^[a-z0-9][a-z0-9_-]*$"; found "Start Up"',
  'rig-sha-short': 'at /rig/sha256: expected pattern "^[0-9a-f]{64}$"; found "abc123"',
  'run-status-finished': 'at /run/status: expected one of complete, interrupted, failed; found "finished"',
  'sample-is-string': 'at /cells/0/metrics/time_ms/samples/0: expected number; found "1.2"',
  'sample-negative-duration': 'at /cells/0/metrics/time_ms/samples/2: expected a number >= 0, a duration (ms); found -0.5',
  // JSON.parse reads 1e309 as Infinity, which the message once showed as null.
  'sample-out-of-range': 'at /cells/0/metrics/time_ms/samples/0: expected a finite number; found a number out of range (Infinity)',
  'started-at-not-a-time': 'at /run/started_at: expected a date-time string; found "yesterday"',
  'summary-median-edited': 'at /cells/0/metrics/time_ms/summary/median: stored 0.9; recomputed from the samples 1.1107299475771342',
  'summary-n-zero': 'at /cells/0/metrics/time_ms/summary/n: expected >= 1; found 0',
  'truncated-json': 'not valid JSON',
  'unknown-top-level-field': 'at (top level): unknown field "extra"',
  'wrong-schema-version': 'at /schema: expected one of urn:rigor:artifact:v1, urn:rigor:artifact:v2; found "urn:rigor:artifact:v0"',
};

describe('malformed artifacts', () => {
  it('has an expected error for every fixture on disk and a fixture for every entry', () => {
    const onDisk = readdirSync(DIR).map((f) => f.replace(/\.json$/, '')).sort();
    expect(onDisk).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s: %s', (name, message) => {
    const path = `${DIR}/${name}.json`;
    let error: unknown;
    try {
      readArtifact(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const text = (error as Error).message;
    expect(text.startsWith(path)).toBe(true);
    expect(text).toContain(message);
    // One precise line per problem, not a cascade of union noise.
    expect(text.split('\n').filter((line) => line.startsWith('  at ')).length).toBeLessThanOrEqual(1);
  });

  it('the good fixture reads', () => {
    expect(readArtifact('test/fixtures/artifacts/good/minimal.json').schema).toBe('urn:rigor:artifact:v1');
  });

  it('rigor validate reports each one and exits 1', () => {
    const result = rigor(['validate', `${DIR}/cell-status-done.json`, `${DIR}/missing-host.json`, 'test/fixtures/artifacts/good/minimal.json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/INVALID\s+test\/fixtures\/artifacts\/bad\/cell-status-done\.json/);
    expect(result.stdout).toMatch(/^ok\s+test\/fixtures\/artifacts\/good\/minimal\.json/m);
    expect(result.stderr).toContain('2 of 3 file(s) invalid');
  });
});
