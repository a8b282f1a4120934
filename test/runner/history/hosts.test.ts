import { describe, expect, it } from 'vitest';
import { fingerprintLabel, historyHostWarnings, historyHosts } from '../../../runner/history/hosts.ts';
import { buildArtifact, type ArtifactSpec } from '../../helpers/artifact-builder.ts';

const run = (day: number, spec: Partial<ArtifactSpec> = {}) => ({ artifact: buildArtifact({ startedAt: `2025-02-${String(day).padStart(2, '0')}T00:00:00.000Z`, cells: [], ...spec }) });

describe('historyHosts', () => {
  it('lists hosts and their fingerprints in the order they first ran, each with what changed from the one before', () => {
    const hosts = historyHosts([
      run(3, { fingerprint: { microcode: '0x2' } }),
      run(1),
      run(2, { hostId: 'ci-runner' }),
      run(4),
    ]);
    expect(hosts.map((host) => [host.id, host.fingerprints.map((f) => [f.artifacts, f.first_started_at.slice(0, 10)])])).toEqual([
      ['test-host', [[2, '2025-02-01'], [1, '2025-02-03']]],
      ['ci-runner', [[1, '2025-02-02']]],
    ]);
    expect(hosts[0]!.fingerprints[0]!.differences).toEqual([]);
    expect(hosts[0]!.fingerprints[1]!.differences).toEqual([{ field: 'microcode', label: 'microcode', a: '0x1', b: '0x2' }]);
  });
});

describe('historyHostWarnings', () => {
  it('is quiet for one host with one fingerprint', () => {
    expect(historyHostWarnings(historyHosts([run(1), run(2)]))).toEqual([]);
  });

  it('names what sets a second host apart, or that the two are alike by fingerprint', () => {
    const alike = historyHostWarnings(historyHosts([run(1), run(2, { hostId: 'clone' })]));
    const fingerprint = run(1).artifact.host.fingerprint!.id;
    expect(alike).toEqual([`hosts test-host and clone are separate series (numbers from two machines are never one line); their newest runs are alike by fingerprint ${fingerprint}`]);
    const other = historyHostWarnings(historyHosts([run(1), run(2, { hostId: 'ci-runner', fingerprint: { logical_cpus: 4, virtualization: 'none' } })]));
    expect(other).toEqual([
      'hosts test-host and ci-runner are separate series (numbers from two machines are never one line); their newest runs differ in logical CPUs (2 vs 4), virtualization (kvm vs none)',
    ]);
  });

  it("compares a host's newest run with the first host's newest, an older artifact only on what it records", () => {
    const warnings = historyHostWarnings(historyHosts([run(1, { fingerprint: { cpu_model: 'EPYC 7763' } }), run(2, { hostId: 'old-box', withoutFingerprint: true })]));
    expect(warnings).toEqual([
      'hosts test-host and old-box are separate series (numbers from two machines are never one line); their newest runs cannot be compared in CPU flags, microcode, DMI and virtualization ' +
        '(older artifacts record no fingerprint) and differ in CPU model (EPYC 7763 vs Test CPU @ 2.0GHz)',
    ]);
  });
});

describe('fingerprintLabel', () => {
  it('names the fingerprint, or says the artifacts are older', () => {
    expect(fingerprintLabel('0123456789ab')).toBe('fingerprint 0123456789ab');
    expect(fingerprintLabel(null)).toBe('no fingerprint (older artifacts)');
  });
});
