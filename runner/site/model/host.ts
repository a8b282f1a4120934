/** The host block of an artifact: the machine, its load and tools, and whether qemu cells ran under KVM or TCG. Pure. */
import { fingerprintEntries, recordedFingerprint } from '../../host/fingerprint.ts';
import type { ArtifactInput } from './artifact-ref.ts';
import { pointerOf } from './json-pointer.ts';
import type { NumberFormat, Shown } from './source.ts';

export interface HostBlock {
  artifactPath: string;
  id: string;
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpu: string;
  logicalCpus: Shown;
  memoryTotal: Shown;
  memoryAvailable: Shown;
  loadBefore: Shown[];
  loadAfter: Shown[] | null;
  governor: string | null;
  node: string;
  tools: { name: string; version: string | null }[];
  kvm: { status: string; reason: string };
  /** host.fingerprint's id and fields; null for an artifact written before rigor recorded fingerprints. */
  fingerprint: { id: string; entries: { label: string; value: string }[] } | null;
  /** Which accelerator each qemu cell used, from the cells' facts.accel: "TCG" or "KVM". */
  accel: { label: string; cells: string[] }[];
  environment: { key: string; value: string }[];
  warnings: string[];
}

export function hostBlock(input: ArtifactInput): HostBlock {
  const { host, cells, environment } = input.artifact;
  const shown = (format: NumberFormat, value: number, ...tokens: (string | number)[]): Shown => ({
    artifactPath: input.path,
    pointer: pointerOf('host', ...tokens),
    value,
    unit: '',
    format,
  });
  const accel = new Map<string, string[]>();
  for (const cell of cells) {
    if (typeof cell.facts?.accel !== 'string') continue;
    const label = cell.facts.accel.toUpperCase();
    accel.set(label, [...(accel.get(label) ?? []), cell.id]);
  }
  return {
    artifactPath: input.path,
    id: host.id,
    hostname: host.hostname,
    os: host.os.pretty_name,
    kernel: `${host.kernel.release} ${host.kernel.version}`,
    arch: host.arch,
    cpu: host.cpu.model,
    logicalCpus: shown('count', host.cpu.logical_cpus, 'cpu', 'logical_cpus'),
    memoryTotal: shown('bytes', host.memory.total_bytes, 'memory', 'total_bytes'),
    memoryAvailable: shown('bytes', host.memory.available_bytes, 'memory', 'available_bytes'),
    loadBefore: host.load.before.map((value, i) => shown('load', value, 'load', 'before', i)),
    loadAfter: host.load.after ? host.load.after.map((value, i) => shown('load', value, 'load', 'after', i)) : null,
    governor: host.cpu_governor,
    node: host.node,
    tools: Object.entries(host.tools).map(([name, version]) => ({ name, version })),
    kvm: { status: host.virtualization.kvm.status, reason: host.virtualization.kvm.reason },
    fingerprint: host.fingerprint ? { id: host.fingerprint.id, entries: fingerprintEntries(recordedFingerprint(host).fields) } : null,
    accel: [...accel].map(([label, ids]) => ({ label, cells: ids })),
    environment: Object.entries(environment).map(([key, value]) => ({
      key,
      value: typeof value === 'string' ? value : JSON.stringify(value),
    })),
    warnings: host.warnings,
  };
}
