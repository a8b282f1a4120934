import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectArtifacts, planMerge } from '../../../runner/fleet/merge.ts';
import { readFleetRecord } from '../../../runner/fleet/record-file.ts';
import { buildArtifact, writeArtifactFile } from '../../helpers/artifact-builder.ts';
import { rigor } from '../../helpers/cli.ts';

const cells = [{ params: { program: 'true' }, samples: { time_ms: [1, 1.1, 0.9] } }];
const onHost = (hostId: string, startedAt = '2026-12-01T10:00:00.000Z') =>
  buildArtifact({ rig: 'demo', hostId, commit: 'a'.repeat(40), startedAt, cells });

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'rigor-test-fleet-merge-'));
}

describe('planMerge', () => {
  const found = (file: string, hostId: string) => {
    const artifact = onHost(hostId);
    return { file, artifact, text: JSON.stringify(artifact) };
  };

  it('adds what is new and names what is already there byte for byte, also under a suffixed name', () => {
    const a = found('/in/job1/20261201T100000Z_aaaaaaa_host-a.json', 'host-a');
    const b = found('/in/job2/20261201T100000Z_aaaaaaa_host-b.json', 'host-b');
    const existing = new Map([
      ['demo/20261201T100000Z_aaaaaaa_host-a.json', 'another run of the same second'],
      ['demo/20261201T100000Z_aaaaaaa_host-a-1.json', a.text],
    ]);
    const steps = planMerge([a, b, b], (rig, name) => existing.get(`${rig}/${name}`) ?? null);
    expect(steps.map((s) => [s.action, s.presentAs])).toEqual([
      ['present', 'demo/20261201T100000Z_aaaaaaa_host-a-1.json'],
      ['add', null],
      ['present', 'demo/20261201T100000Z_aaaaaaa_host-b.json'],
    ]);
  });

  it("gives a file rigor did not name (a CI download's) the name rigor writes", () => {
    const steps = planMerge([found('/in/artifact.json', 'host-c')], () => null);
    expect(steps[0]!.name).toBe('20261201T100000Z_aaaaaaa_host-c.json');
  });
});

describe('rigor fleet merge', () => {
  it('merges artifacts from any depth into results/<rig>/ with a fleet record, and a second merge writes nothing', () => {
    const dir = scratch();
    const input = join(dir, 'download');
    writeArtifactFile(join(input, 'job-1'), onHost('host-a'));
    writeArtifactFile(join(input, 'job-2', 'deeper'), onHost('host-b'));
    const results = join(dir, 'results');

    const first = rigor(['fleet', 'merge', input, '--results', results]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(readdirSync(join(results, 'demo')).sort()).toEqual([
      '20261201T100000Z_aaaaaaa_host-a.json',
      '20261201T100000Z_aaaaaaa_host-b.json',
      'fleet',
    ]);
    const [recordName] = readdirSync(join(results, 'demo', 'fleet'));
    const record = readFleetRecord(join(results, 'demo', 'fleet', recordName!));
    expect(record.kind).toBe('merge');
    expect(record.source.commit).toBe('a'.repeat(40));
    expect(record.hosts.map((h) => [h.name, h.outcome, h.artifact])).toEqual([
      ['host-a', 'ok', 'demo/20261201T100000Z_aaaaaaa_host-a.json'],
      ['host-b', 'ok', 'demo/20261201T100000Z_aaaaaaa_host-b.json'],
    ]);
    // the builder gives both hosts one fingerprint: the record says they share the hardware
    expect(record.notes.join('\n')).toMatch(/host-a and host-b share hardware fingerprint [0-9a-f]{12}/);

    const validated = rigor(['validate', join(results, 'demo', 'fleet', recordName!)]);
    expect(validated.stdout).toContain('fleet record of rig "demo" (merge), 2 of 2 host(s) ok, complete');

    const again = rigor(['fleet', 'merge', input, '--results', results]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/present .*host-a\.json .*not written again/);
    expect(readdirSync(join(results, 'demo', 'fleet'))).toHaveLength(1);
  });

  it('refuses the whole merge when one file is not a valid artifact, naming it and what is wrong', () => {
    const dir = scratch();
    const input = join(dir, 'download');
    writeArtifactFile(input, onHost('host-a'));
    mkdirSync(join(input, 'broken'), { recursive: true });
    writeFileSync(join(input, 'broken', 'x.json'), '{"schema": "urn:rigor:artifact:v2"}');
    const results = join(dir, 'results');
    const result = rigor(['fleet', 'merge', input, '--results', results]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(input, 'broken', 'x.json')}: not a valid rigor artifact`);
    expect(result.stderr).toContain('missing field "tool"');
    expect(result.stderr).toContain('nothing was merged');
    expect(() => readdirSync(results)).toThrow();
  });

  it('says what it expected when the directory does not exist', () => {
    const result = rigor(['fleet', 'merge', '/nonexistent/rigor-fleet', '--results', join(scratch(), 'results')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/nonexistent/rigor-fleet: expected a directory of artifacts');
  });

  it('passes over fleet records of another results tree', () => {
    const dir = scratch();
    const input = join(dir, 'download');
    const path = writeArtifactFile(input, onHost('host-a'));
    mkdirSync(join(input, 'demo', 'fleet'), { recursive: true });
    writeFileSync(join(input, 'demo', 'fleet', 'r.json'), JSON.stringify({ schema: 'urn:rigor:fleet-record:v1' }));
    expect(collectArtifacts(input).map((f) => f.file)).toEqual([path]);
    expect(readFileSync(path, 'utf8')).toContain('host-a');
  });
});
