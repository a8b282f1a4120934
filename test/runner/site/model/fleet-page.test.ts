import { describe, expect, it } from 'vitest';
import type { FleetRecord } from '../../../../runner/fleet/record.ts';
import { fleetPages } from '../../../../runner/site/model/fleet-page.ts';
import { buildSiteModel } from '../../../../runner/site/model/site.ts';
import { buildArtifact } from '../../../helpers/artifact-builder.ts';

const cells = (kvm: boolean) => [
  { params: { backend: 'process' }, samples: { time_ms: [2, 2.1, 1.9] } },
  kvm
    ? { params: { backend: 'qemu' }, samples: { time_ms: [300, 310, 290] } }
    : { params: { backend: 'qemu' }, status: 'skipped' as const, reason: 'KVM absent on this host' },
];
const artifact = (hostId: string, kvm: boolean) => ({
  path: `results/demo/20261201T100000Z_aaaaaaa_${hostId}.json`,
  artifact: buildArtifact({ rig: 'demo', hostId, commit: 'a'.repeat(40), startedAt: '2026-12-01T10:00:00.000Z', cells: cells(kvm) }),
});
const host = (name: string, outcome: FleetRecord['hosts'][number]['outcome'], hostId: string | null) => ({
  name,
  answered: outcome !== 'unreachable',
  outcome,
  stage: outcome === 'ok' ? null : 'copy',
  reason: outcome === 'ok' ? null : 'unreachable: Connection refused',
  log_tail: [],
  artifact: hostId ? `demo/20261201T100000Z_aaaaaaa_${hostId}.json` : null,
  host_id: hostId,
  fingerprint: null,
  rig_s: hostId ? 1.5 : null,
});
const record: FleetRecord = {
  schema: 'urn:rigor:fleet-record:v1',
  tool: { name: 'rigor', version: '0.1.0' },
  kind: 'run',
  id: 'run-1',
  command_line: ['rigor', 'fleet', 'run', 'demo'],
  started_at: '2026-12-01T10:00:00.000Z',
  finished_at: '2026-12-01T10:05:00.000Z',
  status: 'partial',
  rig: { name: 'demo', path: 'rigs/demo.rig.yaml' },
  overrides: { set: [], iterations: null },
  source: { commit: 'a'.repeat(40), branch: 'main', dirty: false, dirty_paths: [], archive_sha256: 'b'.repeat(64), diff_sha256: null, diff_file: null },
  ansible: null,
  timing: null,
  retry_of: null,
  hosts: [host('laptop', 'ok', 'laptop-1'), host('epyc', 'ok', 'epyc-2'), host('arm', 'unreachable', null)],
  notes: [],
};

describe('fleetPages', () => {
  const artifacts = [artifact('laptop-1', false), artifact('epyc-2', true)];
  const [page] = fleetPages([{ path: 'results/demo/fleet/20261201T100000Z_aaaaaaa.json', record }], artifacts);

  it('puts the hosts that brought an artifact side by side per cell, a skipped cell with its reason', () => {
    expect(page!.path).toBe('fleet/demo/20261201T100000Z_aaaaaaa.html');
    expect(page!.columns).toEqual(['laptop', 'epyc']);
    const qemu = page!.metrics[0]!.rows.find((row) => row.cell === 'backend=qemu')!;
    expect('dash' in qemu.values[0]! && qemu.values[0].dash.reason).toBe('skipped: KVM absent on this host');
    expect('measured' in qemu.values[1]! && qemu.values[1].measured.value.artifactPath).toBe(artifacts[1]!.path);
    expect(page!.hostBlocks.map((block) => block.id)).toEqual(['laptop-1', 'epyc-2']);
    expect(page!.compareCommand).toBe(`rigor compare ${artifacts[0]!.path} ${artifacts[1]!.path}`);
  });

  it('lists every host asked with its outcome, and the one that did not answer with why', () => {
    expect(page!.hosts.map((h) => [h.name, h.outcome, h.artifact?.host ?? null])).toEqual([
      ['laptop', 'ok', 'laptop-1'],
      ['epyc', 'ok', 'epyc-2'],
      ['arm', 'unreachable', null],
    ]);
    expect(page!.hosts[2]!.reason).toBe('unreachable: Connection refused');
  });

  it("is linked from its rig's page", () => {
    const site = buildSiteModel({ rigs: [], artifacts, problems: [], commitOrder: [], fleetRecords: [{ path: 'results/demo/fleet/x.json', record }] });
    expect(site.rigs[0]!.fleets).toEqual([{ path: 'fleet/demo/x.html', id: 'run-1', startedAt: record.started_at, status: 'partial', hosts: 3, ok: 2 }]);
  });
});
