/**
 * The host fingerprint: what the numbers depend on besides the host id
 * (hostname and machine-id, which VM images clone) — CPU model, flags and
 * microcode, kernel release and build, DMI, memory, virtualization — read
 * from world-readable files only, so root and a user get the same one; and
 * the diff that names the fields two hosts differ in.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { readText } from '../../base/read-text.ts';
import type { Host, HostFingerprint } from '../artifact/schema.ts';
import { logicalCpus, memory } from './os.ts';

export type FingerprintFields = Omit<HostFingerprint, 'id'>;
export type Dmi = NonNullable<FingerprintFields['dmi']>;

/** Product, board and firmware; not serial or uuid, which name one machine (and are root-only), not what it is. */
export const DMI_FIELDS = ['sys_vendor', 'product_name', 'product_version', 'board_vendor', 'board_name', 'bios_vendor', 'bios_version'] as const;

export interface CpuInfo {
  model: string | null;
  /** The first processor's flags (arm: Features), sorted and unique; null when there is no such line. */
  flags: string[] | null;
  /** Every processor's microcode revision, distinct values joined by ","; null when none is listed. */
  microcode: string | null;
}

function field(block: string, names: string): string | null {
  const match = new RegExp(`^(?:${names})\\s*:\\s*(.*)$`, 'm').exec(block);
  return match ? match[1]!.trim() : null;
}

export function parseCpuinfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).filter((block) => block.trim() !== '');
  const first = blocks[0] ?? '';
  // anchored at the line start: x86's "vmx flags" line is not the CPU's flags
  const flags = field(first, 'flags|Features');
  const microcodes = [...new Set(blocks.map((block) => field(block, 'microcode')).filter((value): value is string => !!value))];
  return {
    model: field(first, 'model name') || null,
    flags: flags === null ? null : [...new Set(flags.split(/\s+/).filter(Boolean))].sort(),
    microcode: microcodes.length > 0 ? microcodes.join(',') : null,
  };
}

export interface VirtualizationEvidence {
  /** The cpuinfo flags; null when there are none (not x86, or no /proc). */
  flags: string[] | null;
  /** /sys/hypervisor/type (Xen guests). */
  hypervisorType: string | null;
  /** The clocksources the kernel registered: a paravirtual clock exists only under its hypervisor. */
  clocksources: string[];
  dmi: Dmi | null;
}

const CLOCKSOURCES: [RegExp, string][] = [
  [/^kvm-clock$/, 'kvm'],
  [/^xen$/, 'xen'],
  [/^hyperv_clocksource/, 'microsoft'],
];

/**
 * DMI vendor prefixes, as systemd-detect-virt's table has them. `metal`: the
 * vendor also sells bare metal under that name, so it names a hypervisor
 * only when the CPU says one runs.
 */
const DMI_VENDORS: { prefix: string; virtualization: string; metal?: true }[] = [
  { prefix: 'KVM', virtualization: 'kvm' },
  { prefix: 'OpenStack', virtualization: 'kvm' },
  { prefix: 'KubeVirt', virtualization: 'kvm' },
  { prefix: 'Amazon EC2', virtualization: 'amazon', metal: true },
  { prefix: 'QEMU', virtualization: 'qemu' },
  { prefix: 'VMware', virtualization: 'vmware' },
  { prefix: 'VMW', virtualization: 'vmware' },
  { prefix: 'innotek GmbH', virtualization: 'oracle' },
  { prefix: 'VirtualBox', virtualization: 'oracle' },
  { prefix: 'Oracle Corporation', virtualization: 'oracle', metal: true },
  { prefix: 'Xen', virtualization: 'xen' },
  { prefix: 'Bochs', virtualization: 'bochs' },
  { prefix: 'Parallels', virtualization: 'parallels' },
  { prefix: 'BHYVE', virtualization: 'bhyve' },
  { prefix: 'Hyper-V', virtualization: 'microsoft' },
  { prefix: 'Apple Virtualization', virtualization: 'apple' },
  { prefix: 'Google Compute Engine', virtualization: 'google' },
];

function fromDmi(dmi: Dmi | null, cpuSaysHypervisor: boolean): string | null {
  if (!dmi) return null;
  if (dmi.sys_vendor === 'Microsoft Corporation' && dmi.product_name === 'Virtual Machine') return 'microsoft';
  for (const value of [dmi.product_name, dmi.sys_vendor, dmi.board_vendor, dmi.bios_vendor, dmi.product_version]) {
    const vendor = DMI_VENDORS.find((entry) => value?.startsWith(entry.prefix) && (cpuSaysHypervisor || !entry.metal));
    if (vendor) return vendor.virtualization;
  }
  return null;
}

/**
 * Which hypervisor this kernel runs under, from what anyone may read (the
 * CPUID leaf systemd-detect-virt asks needs root): the cpuinfo `hypervisor`
 * flag says whether one runs; /sys/hypervisor, the paravirtual clock the
 * kernel registered, then DMI say which. "vm-other" when the flag says one
 * runs and nothing names it; "none" when an x86 CPU lacks the flag and no
 * paravirtual interface shows; null when there is nothing to tell by.
 */
export function detectVirtualization(evidence: VirtualizationEvidence): string | null {
  const flag = evidence.flags === null ? null : evidence.flags.includes('hypervisor');
  const kernelSays =
    (evidence.hypervisorType === 'xen' ? 'xen' : null) ??
    CLOCKSOURCES.find(([name]) => evidence.clocksources.some((source) => name.test(source)))?.[1] ??
    null;
  if (kernelSays) return kernelSays;
  // without the flag a DMI vendor string is a product name, not proof of a hypervisor
  if (flag === false) return 'none';
  return fromDmi(evidence.dmi, flag === true) ?? (flag === true ? 'vm-other' : null);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with keys sorted at every level, so the digest does not depend on the order fields were written in. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
    .join(',')}}`;
}

/** The fingerprint id: the first 12 hex of sha256 over the fields, keys sorted. */
export function fingerprintId(fields: FingerprintFields): string {
  return sha256(canonicalJson(fields)).slice(0, 12);
}

export function withFingerprintId(fields: FingerprintFields): HostFingerprint {
  return { id: fingerprintId(fields), ...fields };
}

/** The DMI fields of a directory like /sys/class/dmi/id; null when the directory is absent. */
export function readDmi(dir = '/sys/class/dmi/id'): Dmi | null {
  if (!existsSync(dir)) return null;
  return Object.fromEntries(DMI_FIELDS.map((name) => [name, readText(`${dir}/${name}`)?.trim() || null])) as Dmi;
}

/** MemTotal to the nearest 128 MiB: the kernel's own reservations move it by some hundred kB from one kernel or boot to the next. */
export function memoryMib(totalBytes: number): number {
  return Math.round(totalBytes / 2 ** 20 / 128) * 128;
}

export function collectFingerprint(): HostFingerprint {
  const cpu = parseCpuinfo(readText('/proc/cpuinfo') ?? '');
  const dmi = readDmi();
  const clocksources = (readText('/sys/devices/system/clocksource/clocksource0/available_clocksource') ?? '').split(/\s+/).filter(Boolean);
  return withFingerprintId({
    cpu_model: cpu.model ?? (os.cpus()[0]?.model.trim() || null),
    cpu_flags_sha256: cpu.flags ? sha256(cpu.flags.join(' ')) : null,
    microcode: cpu.microcode,
    logical_cpus: logicalCpus(),
    kernel_release: os.release(),
    kernel_build: os.version(),
    dmi,
    memory_total_mib: memoryMib(memory().total_bytes),
    virtualization: detectVirtualization({ flags: cpu.flags, hypervisorType: readText('/sys/hypervisor/type')?.trim() || null, clocksources, dmi }),
  });
}

/**
 * What an artifact records of the fingerprint: all of it, or for an artifact
 * written before rigor had fingerprints (id null) what its host block holds
 * of the same things — CPU model, logical CPUs, kernel release and build
 * (host.kernel.version is uname -v), MemTotal.
 */
export function recordedFingerprint(host: Host): { id: string | null; fields: Partial<FingerprintFields> } {
  if (host.fingerprint) {
    const { id, ...fields } = host.fingerprint;
    return { id, fields };
  }
  return {
    id: null,
    fields: {
      cpu_model: host.cpu.model === 'unknown' ? null : host.cpu.model,
      logical_cpus: host.cpu.logical_cpus,
      kernel_release: host.kernel.release,
      kernel_build: host.kernel.version,
      memory_total_mib: memoryMib(host.memory.total_bytes),
    },
  };
}

/** One field two fingerprints disagree on, both values as a reader should see them. */
export interface FingerprintDifference {
  /** The field's path in host.fingerprint, e.g. "kernel_build", "dmi.board_name". */
  field: string;
  label: string;
  a: string;
  b: string;
}

export interface FingerprintDiff {
  differences: FingerprintDifference[];
  /** Labels of the fields both record and agree on. */
  same: string[];
  /** Labels of the fields a side does not record (an older artifact): neither equal nor different. */
  unknown: string[];
}

type Value = string | number | null;

interface FieldView {
  field: string;
  label: string;
  /** Shown before the values, inside the parentheses: where the value comes from. */
  source?: string;
  show?: (value: string | number) => string;
  /** Words for null. */
  none?: string;
  get: (fields: Partial<FingerprintFields>) => Value | undefined;
}

const VIEWS: FieldView[] = [
  { field: 'cpu_model', label: 'CPU model', get: (f) => f.cpu_model },
  { field: 'cpu_flags_sha256', label: 'CPU flags', source: 'sha256 ', show: (v) => String(v).slice(0, 12), get: (f) => f.cpu_flags_sha256 },
  { field: 'microcode', label: 'microcode', get: (f) => f.microcode },
  { field: 'logical_cpus', label: 'logical CPUs', get: (f) => f.logical_cpus },
  { field: 'kernel_release', label: 'kernel release', source: 'uname -r: ', get: (f) => f.kernel_release },
  { field: 'kernel_build', label: 'kernel build', source: 'uname -v: ', get: (f) => f.kernel_build },
  ...DMI_FIELDS.map(
    (name): FieldView => ({
      field: `dmi.${name}`,
      label: `DMI ${name}`,
      none: 'not readable',
      get: (f) => (f.dmi === undefined ? undefined : (f.dmi?.[name] ?? null)),
    }),
  ),
  { field: 'memory_total_mib', label: 'memory', source: 'MemTotal ', show: (v) => `~${v} MiB`, get: (f) => f.memory_total_mib },
  { field: 'virtualization', label: 'virtualization', get: (f) => f.virtualization },
];

/** "DMI board_name" and its siblings count as one "DMI" in the lists of what agrees or is unknown. */
function group(label: string): string {
  return label.startsWith('DMI ') ? 'DMI' : label;
}

/** The fields two fingerprints (or what older artifacts record of one) differ in, agree on, or cannot be compared on. Pure. */
export function diffFingerprints(a: Partial<FingerprintFields>, b: Partial<FingerprintFields>): FingerprintDiff {
  const differences: FingerprintDifference[] = [];
  const same = new Set<string>();
  const unknown = new Set<string>();
  for (const view of VIEWS) {
    const x = view.get(a);
    const y = view.get(b);
    if (x === undefined || y === undefined) unknown.add(group(view.label));
    else if (x === y) same.add(group(view.label));
    else {
      const shown = (value: Value) => (value === null ? (view.none ?? 'unknown') : (view.show?.(value) ?? String(value)));
      differences.push({ field: view.field, label: view.label, a: shown(x), b: shown(y) });
    }
  }
  // a DMI field that differs makes "DMI" not the same, even if other DMI fields agree
  for (const difference of differences) same.delete(group(difference.label));
  return { differences, same: [...same], unknown: [...unknown] };
}

/** "kernel build (uname -v: #1 SMP … vs #2 SMP …), microcode (0x1 vs 0x2)" */
export function describeDifferences(differences: FingerprintDifference[]): string {
  return differences
    .map((difference) => {
      const source = VIEWS.find((view) => view.field === difference.field)?.source ?? '';
      return `${difference.label} (${source}${difference.a} vs ${difference.b})`;
    })
    .join(', ');
}

/** Each recorded field as a label and a value to read ("kernel build (uname -v)", "#1 SMP …"); DMI that is not readable is one entry. */
export function fingerprintEntries(fields: Partial<FingerprintFields>): { label: string; value: string }[] {
  const entries: { label: string; value: string }[] = [];
  for (const view of VIEWS) {
    const value = view.get(fields);
    if (value === undefined) continue;
    if (view.field.startsWith('dmi.') && fields.dmi === null) {
      if (view.field === `dmi.${DMI_FIELDS[0]}`) entries.push({ label: 'DMI', value: 'not readable' });
      continue;
    }
    const label = view.source ? `${view.label} (${view.source.replace(/:?\s*$/, '')})` : view.label;
    entries.push({ label, value: value === null ? (view.none ?? 'unknown') : (view.show?.(value) ?? String(value)) });
  }
  return entries;
}

/** "a, b and c" */
export function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
