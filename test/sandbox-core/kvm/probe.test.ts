import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuErrorText } from '../../../sandbox-core/kvm/boot.ts';
import { newestKernel, probeKvm } from '../../../sandbox-core/kvm/probe.ts';

const STATUSES = ['usable', 'absent', 'present-but-unusable', 'unprobed'];
const scratch = mkdtempSync(path.join(os.tmpdir(), 'rigor-kvm-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** pids of our own children that are qemu: a probe must leave none. */
function qemuChildren(): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && stat.includes('(qemu');
      } catch {
        return false;
      }
    });
}

describe('probeKvm on this machine', () => {
  it('gives a verdict with a reason, then reuses it from the cache', async () => {
    const cacheDir = path.join(scratch, 'cache');
    const first = await probeKvm({ cacheDir, force: true });
    expect(STATUSES).toContain(first.status);
    expect(first.reason.length).toBeGreaterThan(0);
    expect(first.cached).toBe(false);
    expect(qemuChildren()).toEqual([]);

    const second = await probeKvm({ cacheDir });
    if (first.probe_ms !== null) {
      // a guest was booted, so the verdict was stored for this boot: the second call reads it and boots nothing
      expect(second).toEqual({ ...first, cached: true });
      expect(qemuChildren()).toEqual([]);
      const stored = JSON.parse(readFileSync(path.join(cacheDir, 'kvm-probe.json'), 'utf8'));
      expect(stored.boot_id).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
      expect((await probeKvm({ cacheDir, cachedOnly: true })).cached).toBe(true);
    }
    expect(readdirSync(scratch)).toEqual(['cache']); // no temp files left behind
  }, 60_000);
});

describe('probeKvm without a usable device or guest', () => {
  it('no device file → absent', async () => {
    expect(await probeKvm({ device: path.join(scratch, 'no-kvm'), cacheDir: scratch })).toEqual({ status: 'absent', reason: `no ${path.join(scratch, 'no-kvm')}`, probe_ms: null, cached: false });
  });

  it('a device that will not open read-write → present-but-unusable with the errno', async () => {
    const kvm = await probeKvm({ device: scratch, cacheDir: scratch });
    expect(kvm.status).toBe('present-but-unusable');
    expect(kvm.reason).toContain('EISDIR');
  });

  it.runIf(readdirSync('/dev').includes('kvm'))('no guest kernel → unprobed, saying what to install', async () => {
    const bootDir = path.join(scratch, 'empty-boot');
    mkdirSync(bootDir);
    const kvm = await probeKvm({ bootDir, cacheDir: scratch });
    expect(kvm.status).toBe('unprobed');
    expect(kvm.reason).toMatch(/qemu-system-x86_64 not installed|apt-get install linux-image-cloud-amd64/);
  });

  it.runIf(readdirSync('/dev').includes('kvm'))('cachedOnly with nothing cached boots nothing → unprobed', async () => {
    const kvm = await probeKvm({ cacheDir: path.join(scratch, 'nothing-cached'), cachedOnly: true });
    expect(kvm.probe_ms).toBeNull(); // no guest was booted to time
    expect(kvm.cached).toBe(false);
    expect(['unprobed', 'present-but-unusable']).toContain(kvm.status);
  });
});

describe('newestKernel', () => {
  it('picks the highest version, not the last in text order', () => {
    const bootDir = path.join(scratch, 'boot');
    mkdirSync(bootDir);
    for (const name of ['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'config-6.1.0-99-amd64']) writeFileSync(path.join(bootDir, name), '');
    expect(newestKernel(bootDir)).toBe(path.join(bootDir, 'vmlinuz-6.1.0-10-amd64'));
    expect(newestKernel(path.join(scratch, 'missing'))).toBeNull();
  });
});

describe('qemuErrorText', () => {
  it('keeps the first error, without the program name or warnings', () => {
    const stderr = [
      'qemu-system-x86_64: warning: host doesn\'t support requested feature: CPUID.01H:ECX.pni [bit 0]',
      'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69',
      "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.",
    ].join('\n');
    expect(qemuErrorText(stderr)).toBe('error: failed to set MSR 0x10a to 0x69');
    expect(qemuErrorText('')).toBe('');
  });
});
