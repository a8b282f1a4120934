import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { doctorCommand, formatChecks, formatCleaned, wrap } from '../../../runner/cli/commands/doctor.ts';
import { doctorWarnings, hostChecks, kvmCheck, leftoversCheck, nodeCheck, runDoctor, toolChecks, type HostFacts } from '../../../runner/host/doctor.ts';
import { writeCachedVerdict } from '../../../sandbox-core/kvm/cache.ts';
import { newestKernel } from '../../../sandbox-core/kvm/probe.ts';

const GIB = 1024 ** 3;
const quiet: HostFacts = {
  load: [0.1, 0.1, 0.1],
  logicalCpus: 4,
  governor: 'performance',
  memory: { total_bytes: 8 * GIB, available_bytes: 6 * GIB, swap_total_bytes: 0, swap_free_bytes: 0 },
  turbo: null,
  smt: null,
};
const statusOf = (facts: Partial<HostFacts>, name: string) => hostChecks({ ...quiet, ...facts }).find((check) => check.name === name)?.status;

describe('hostChecks', () => {
  it('a quiet, pinned machine has nothing to warn about', () => {
    expect(doctorWarnings(hostChecks(quiet))).toEqual([]);
  });

  it('warns when the 1-minute load passes half the cpus', () => {
    expect(statusOf({ load: [2.0, 0, 0] }, 'load')).toBe('ok');
    expect(statusOf({ load: [2.01, 0, 0] }, 'load')).toBe('warn');
  });

  it('warns on a governor other than performance, not on a VM without cpufreq', () => {
    expect(statusOf({ governor: 'powersave' }, 'cpu governor')).toBe('warn');
    expect(statusOf({ governor: null }, 'cpu governor')).toBe('ok');
  });

  it('warns under 1 GiB available and on swap in use', () => {
    expect(statusOf({ memory: { ...quiet.memory, available_bytes: 0.9 * GIB } }, 'memory')).toBe('warn');
    expect(statusOf({ memory: { ...quiet.memory, swap_total_bytes: GIB, swap_free_bytes: GIB } }, 'swap')).toBe('ok');
    expect(statusOf({ memory: { ...quiet.memory, swap_total_bytes: GIB, swap_free_bytes: GIB / 2 } }, 'swap')).toBe('warn');
  });

  it('reports turbo and SMT only when readable', () => {
    expect(hostChecks(quiet).map((check) => check.name)).not.toContain('turbo');
    expect(statusOf({ turbo: true }, 'turbo')).toBe('warn');
    expect(statusOf({ smt: 'on' }, 'smt')).toBe('ok');
  });
});

describe('checks to warnings', () => {
  it('formats warn and fail as "name: value — advice"', () => {
    const checks = [nodeCheck('v18.19.0'), nodeCheck('v20.1.0'), ...toolChecks({ bwrap: null, runc: '1.1.5' })];
    expect(checks.map((check) => check.status)).toEqual(['fail', 'ok', 'warn', 'ok']);
    expect(doctorWarnings(checks)).toEqual([
      'node: v18.19.0 — rigor needs Node 20 or newer',
      'bwrap: not installed — apt-get install bubblewrap; cells needing it will be skipped',
    ]);
  });

  it('KVM that is not usable is a warning carrying the reason', () => {
    expect(kvmCheck({ status: 'usable', reason: 'booted', probe_ms: 300, cached: false }).status).toBe('ok');
    const check = kvmCheck({ status: 'present-but-unusable', reason: 'printed nothing', probe_ms: 4000, cached: true });
    expect(doctorWarnings([check])).toEqual(['kvm: present-but-unusable (cached this boot) — printed nothing — qemu cells run under TCG']);
  });
});

describe('formatChecks', () => {
  it('fits 100 columns and keeps columns aligned', () => {
    const text = formatChecks([
      { name: 'kvm', status: 'warn', value: 'present-but-unusable (cached this boot)', advice: 'x'.repeat(30) + ' ' + 'a stock kernel printed nothing within 4 s under -enable-kvm '.repeat(4) },
      { name: 'qemu-system-x86_64', status: 'ok', value: '7.2.22' },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^check\s+status\s+value\s+advice$/);
    const statusColumn = lines[0]!.indexOf('status');
    expect(lines.filter((line) => /^\S/.test(line)).map((line) => line.slice(statusColumn, statusColumn + 4))).toEqual(['stat', 'warn', 'ok  ']);
    expect(lines.length).toBeGreaterThan(3); // the long advice wrapped
  });

  it('wrap cuts words longer than the width', () => {
    expect(wrap('ab cdefgh i', 4)).toEqual(['ab', 'cdef', 'gh i']);
    expect(wrap('', 4)).toEqual(['']);
  });
});

describe('rigor doctor', () => {
  const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'rigor-doctor-'));
  const savedXdg = process.env.XDG_CACHE_HOME;
  afterEach(() => {
    vi.restoreAllMocks();
    if (savedXdg === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedXdg;
    rmSync(cacheHome, { recursive: true, force: true });
  });

  // a seeded verdict for this boot keeps the test from booting a guest
  function seedKvmVerdict(): void {
    process.env.XDG_CACHE_HOME = cacheHome;
    const kernel = newestKernel('/boot');
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    if (kernel) writeCachedVerdict(path.join(cacheHome, 'rigor'), bootId, kernel, { status: 'usable', reason: 'seeded by the test', probe_ms: 1 });
  }

  it('--json prints the report; warnings alone exit 0', async () => {
    seedKvmVerdict();
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const code = await doctorCommand.handler({ json: true, forceKvmProbe: false });
    const report = JSON.parse(out) as Awaited<ReturnType<typeof runDoctor>>;
    expect(report.checks.map((check) => check.name)).toEqual(expect.arrayContaining(['load', 'memory', 'kvm', 'root', 'node', 'bwrap', 'hyperfine']));
    expect(code).toBe(report.checks.some((check) => check.status === 'fail') ? 1 : 0);
    expect(report.checks.find((check) => check.name === 'node')?.status).toBe('ok');
    // what killed runs left is always looked for; removing it needs --clean
    expect(report.checks.find((check) => check.name === 'leftovers')).toBeDefined();
  });
});

describe('leftovers', () => {
  it('counts by kind and owners, and names the flag that removes them; none is ok', () => {
    expect(leftoversCheck([])).toEqual({ name: 'leftovers', status: 'ok', value: 'none' });
    const check = leftoversCheck([
      { kind: 'cgroup', what: '/sys/fs/cgroup/pids/rigor-runc-42-AbC123', owner: 42 },
      { kind: 'temp-dir', what: '/tmp/rigor-runc-42-AbC123', owner: 42 },
      { kind: 'lock', what: '/run/rigor/host-ids/7', owner: 43 },
      { kind: 'cgroup', what: '/sys/fs/cgroup/memory/rigor-runc-42-AbC123', owner: 42 },
    ]);
    expect(check.status).toBe('warn');
    expect(check.value).toBe('2 cgroups, 1 temp-dir, 1 lock');
    expect(check.advice).toMatch(/^left by 2 rigor processes .*rigor doctor --clean removes them/);
  });

  it('--clean reports what it removed and each it could not remove', () => {
    const text = formatCleaned({
      removed: [{ kind: 'process', what: 'pid 5 (sleep)', owner: 42 }],
      failed: [{ kind: 'cgroup', what: '/sys/fs/cgroup/pids/x', owner: 42, error: 'cgroup stays' }],
    });
    expect(text).toBe('\nremoved: 1 process\nnot removed: cgroup /sys/fs/cgroup/pids/x: cgroup stays\n');
  });
});
