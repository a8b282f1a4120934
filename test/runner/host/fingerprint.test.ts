import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostFingerprint } from '../../../runner/artifact/schema.ts';
import {
  collectFingerprint,
  describeDifferences,
  detectVirtualization,
  diffFingerprints,
  fingerprintEntries,
  fingerprintId,
  parseCpuinfo,
  readDmi,
  recordedFingerprint,
  type FingerprintFields,
} from '../../../runner/host/fingerprint.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);
const uname = (flag: string) => spawnSync('uname', [flag], { encoding: 'utf8' }).stdout.trim();

describe('collectFingerprint on this machine', () => {
  const fingerprint = collectFingerprint();
  const { id, ...fields } = fingerprint;
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const firstCpu = cpuinfo.split(/\n\s*\n/)[0] ?? '';

  it('is schema-valid, and its id is the digest of its fields, the same on a second read', () => {
    const parsed = HostFingerprint.safeParse(fingerprint);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(id).toBe(fingerprintId(fields));
    expect(collectFingerprint()).toEqual(fingerprint);
  });

  it('reads the kernel as uname(1) prints it', () => {
    expect(fields.kernel_release).toBe(uname('-r'));
    expect(fields.kernel_build).toBe(uname('-v'));
  });

  it("reads the CPU's model, flags and microcode from /proc/cpuinfo", () => {
    const model = /^model name\s*:\s*(.+)$/m.exec(firstCpu)?.[1]?.trim();
    if (model) expect(fields.cpu_model).toBe(model);
    const flags = /^flags\s*:\s*(.*)$/m.exec(firstCpu)?.[1];
    if (flags === undefined) expect(fields.cpu_flags_sha256).toBeNull();
    else {
      const canonical = [...new Set(flags.trim().split(/\s+/))].sort().join(' ');
      expect(fields.cpu_flags_sha256).toBe(createHash('sha256').update(canonical).digest('hex'));
    }
    const microcodes = [...new Set([...cpuinfo.matchAll(/^microcode\s*:\s*(\S+)/gm)].map((m) => m[1]))];
    expect(fields.microcode).toBe(microcodes.length > 0 ? microcodes.join(',') : null);
    expect(fields.logical_cpus).toBe(os.cpus().length);
  });

  it('reads MemTotal, and DMI only where /sys/class/dmi/id exists', () => {
    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(read('/proc/meminfo') ?? '')?.[1]);
    expect(fields.memory_total_mib % 128).toBe(0);
    expect(Math.abs(fields.memory_total_mib * 1024 - memTotalKb)).toBeLessThanOrEqual(64 * 1024);
    if (!existsSync('/sys/class/dmi/id')) expect(fields.dmi).toBeNull();
    else expect(fields.dmi?.sys_vendor ?? null).toBe(read('/sys/class/dmi/id/sys_vendor')?.trim() || null);
  });

  it('names a hypervisor when the CPU flags say one runs, and the one whose paravirtual clock the kernel registered', () => {
    const flags = /^flags\s*:\s*(.*)$/m.exec(firstCpu)?.[1]?.split(/\s+/) ?? null;
    const clocksources = read('/sys/devices/system/clocksource/clocksource0/available_clocksource') ?? '';
    if (flags?.includes('hypervisor')) expect(['none', null]).not.toContain(fields.virtualization);
    if (/\bkvm-clock\b/.test(clocksources)) expect(fields.virtualization).toBe('kvm');
    if (flags && !flags.includes('hypervisor') && !/kvm-clock|xen|hyperv/.test(clocksources)) expect(fields.virtualization).toBe('none');
  });
});

describe('readDmi', () => {
  it('reads each field of a DMI directory, null for an absent or empty file, and null for no directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-dmi-'));
    writeFileSync(join(dir, 'sys_vendor'), 'QEMU\n');
    writeFileSync(join(dir, 'product_name'), 'Standard PC (Q35 + ICH9, 2009)\n');
    writeFileSync(join(dir, 'board_name'), '\n');
    expect(readDmi(dir)).toEqual({
      sys_vendor: 'QEMU',
      product_name: 'Standard PC (Q35 + ICH9, 2009)',
      product_version: null,
      board_vendor: null,
      board_name: null,
      bios_vendor: null,
      bios_version: null,
    });
    expect(readDmi(join(dir, 'absent'))).toBeNull();
  });
});

describe('parseCpuinfo', () => {
  it("takes the first processor's model and flags (not the vmx flags line) and every distinct microcode", () => {
    const text = [
      'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6338\nmicrocode\t: 0xd0003a5\nflags\t\t: sse2 fpu sse fpu\nvmx flags\t: vnmi ept\n',
      'processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6338\nmicrocode\t: 0xd000390\nflags\t\t: sse2 fpu sse\n',
    ].join('\n');
    expect(parseCpuinfo(text)).toEqual({ model: 'Intel(R) Xeon(R) Gold 6338', flags: ['fpu', 'sse', 'sse2'], microcode: '0xd0003a5,0xd000390' });
  });

  it('reads arm64 Features and leaves model and microcode null where the kernel lists none', () => {
    const text = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n\nprocessor\t: 1\nFeatures\t: fp asimd evtstrm aes\n';
    expect(parseCpuinfo(text)).toEqual({ model: null, flags: ['aes', 'asimd', 'evtstrm', 'fp'], microcode: null });
    expect(parseCpuinfo('')).toEqual({ model: null, flags: null, microcode: null });
  });
});

describe('detectVirtualization', () => {
  const none = { flags: ['fpu', 'sse'], hypervisorType: null, clocksources: ['tsc', 'hpet'], dmi: null };
  const dmi = (sys_vendor: string, product_name: string | null = null) => ({
    sys_vendor,
    product_name,
    product_version: null,
    board_vendor: null,
    board_name: null,
    bios_vendor: null,
    bios_version: null,
  });

  it('says none for an x86 CPU without the hypervisor flag, even on a vendor that also sells bare metal', () => {
    expect(detectVirtualization(none)).toBe('none');
    expect(detectVirtualization({ ...none, dmi: dmi('Amazon EC2', 'm5.metal') })).toBe('none');
  });

  it('names the hypervisor by its paravirtual clock, /sys/hypervisor or DMI', () => {
    const guest = { ...none, flags: ['fpu', 'hypervisor'] };
    expect(detectVirtualization({ ...guest, clocksources: ['tsc', 'kvm-clock'], dmi: dmi('QEMU') })).toBe('kvm');
    expect(detectVirtualization({ ...guest, hypervisorType: 'xen' })).toBe('xen');
    expect(detectVirtualization({ ...guest, clocksources: ['hyperv_clocksource_tsc_page'] })).toBe('microsoft');
    expect(detectVirtualization({ ...guest, dmi: dmi('QEMU', 'Standard PC (Q35 + ICH9, 2009)') })).toBe('qemu');
    expect(detectVirtualization({ ...guest, dmi: dmi('VMware, Inc.', 'VMware Virtual Platform') })).toBe('vmware');
    expect(detectVirtualization({ ...guest, dmi: dmi('Microsoft Corporation', 'Virtual Machine') })).toBe('microsoft');
    expect(detectVirtualization({ ...guest, dmi: dmi('Amazon EC2', 'm5.large') })).toBe('amazon');
  });

  it('says vm-other for a hypervisor nothing names, and null when there is nothing to tell by', () => {
    expect(detectVirtualization({ ...none, flags: ['hypervisor'] })).toBe('vm-other');
    expect(detectVirtualization({ ...none, flags: null })).toBeNull();
    // an arm guest: no flags line, but its firmware says QEMU; an arm server of a bare-metal vendor stays unknown
    expect(detectVirtualization({ ...none, flags: null, dmi: dmi('QEMU') })).toBe('qemu');
    expect(detectVirtualization({ ...none, flags: null, dmi: dmi('Amazon EC2', 'c7g.metal') })).toBeNull();
  });
});

const FIELDS: FingerprintFields = {
  cpu_model: 'Intel(R) Xeon(R) Processor',
  cpu_flags_sha256: 'a'.repeat(64),
  microcode: '0x1',
  logical_cpus: 2,
  kernel_release: '6.1.0-28-cloud-amd64',
  kernel_build: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)',
  dmi: null,
  memory_total_mib: 3968,
  virtualization: 'kvm',
};

describe('fingerprintId', () => {
  it('does not depend on key order, and changes with any field', () => {
    const reversed = Object.fromEntries(Object.entries(FIELDS).reverse()) as FingerprintFields;
    expect(fingerprintId(reversed)).toBe(fingerprintId(FIELDS));
    expect(fingerprintId(FIELDS)).toMatch(/^[0-9a-f]{12}$/);
    expect(fingerprintId({ ...FIELDS, microcode: '0x2' })).not.toBe(fingerprintId(FIELDS));
  });
});

describe('diffFingerprints', () => {
  it('finds nothing between equal fingerprints, and says every field agrees', () => {
    expect(diffFingerprints(FIELDS, { ...FIELDS })).toEqual({
      differences: [],
      same: ['CPU model', 'CPU flags', 'microcode', 'logical CPUs', 'kernel release', 'kernel build', 'DMI', 'memory', 'virtualization'],
      unknown: [],
    });
  });

  it('names each field that differs with both values, as a reader should see them', () => {
    const other: FingerprintFields = {
      ...FIELDS,
      cpu_flags_sha256: 'b'.repeat(64),
      microcode: '0x2',
      kernel_build: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.123-1 (2025-01-02)',
      memory_total_mib: 7936,
      dmi: { sys_vendor: 'QEMU', product_name: 'Standard PC (i440FX + PIIX, 1996)', product_version: null, board_vendor: null, board_name: null, bios_vendor: null, bios_version: null },
    };
    const { differences, same } = diffFingerprints(FIELDS, other);
    expect(differences.map((d) => d.field)).toEqual(['cpu_flags_sha256', 'microcode', 'kernel_build', 'dmi.sys_vendor', 'dmi.product_name', 'memory_total_mib']);
    expect(describeDifferences(differences)).toBe(
      'CPU flags (sha256 aaaaaaaaaaaa vs bbbbbbbbbbbb), microcode (0x1 vs 0x2), ' +
        'kernel build (uname -v: #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) vs #1 SMP PREEMPT_DYNAMIC Debian 6.1.123-1 (2025-01-02)), ' +
        'DMI sys_vendor (not readable vs QEMU), DMI product_name (not readable vs Standard PC (i440FX + PIIX, 1996)), memory (MemTotal ~3968 MiB vs ~7936 MiB)',
    );
    expect(same).toEqual(['CPU model', 'logical CPUs', 'kernel release', 'virtualization']);
  });

  it("compares an older artifact's host block on what it records, and calls the rest unknown, not equal", () => {
    const old = buildArtifact({ withoutFingerprint: true, fingerprint: { kernel_build: '#2 SMP' }, cells: [] });
    const recorded = recordedFingerprint(old.host);
    expect(recorded.id).toBeNull();
    const { differences, unknown, same } = diffFingerprints(recorded.fields, recordedFingerprint(buildArtifact({ cells: [] }).host).fields);
    expect(differences).toEqual([{ field: 'kernel_build', label: 'kernel build', a: '#2 SMP', b: '#1 SMP' }]);
    expect(unknown).toEqual(['CPU flags', 'microcode', 'DMI', 'virtualization']);
    expect(same).toEqual(['CPU model', 'logical CPUs', 'kernel release', 'memory']);
  });
});

describe('fingerprintEntries', () => {
  it('lists every recorded field with where it comes from, unreadable DMI as one entry', () => {
    expect(fingerprintEntries(FIELDS)).toEqual([
      { label: 'CPU model', value: 'Intel(R) Xeon(R) Processor' },
      { label: 'CPU flags (sha256)', value: 'aaaaaaaaaaaa' },
      { label: 'microcode', value: '0x1' },
      { label: 'logical CPUs', value: '2' },
      { label: 'kernel release (uname -r)', value: '6.1.0-28-cloud-amd64' },
      { label: 'kernel build (uname -v)', value: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)' },
      { label: 'DMI', value: 'not readable' },
      { label: 'memory (MemTotal)', value: '~3968 MiB' },
      { label: 'virtualization', value: 'kvm' },
    ]);
  });
});
