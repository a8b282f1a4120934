import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readProcTable } from '../../../../base/proc-table.ts';
import { which } from '../../../../base/which.ts';
import { gvisorBackend } from '../../../../sandbox-core/backends/gvisor.ts';
import { probePlatform, PROBE_TIMEOUT_MS, runscVersion } from '../../../../sandbox-core/backends/gvisor/runsc.ts';
import { backendFor, variantOptionOwners } from '../../../../sandbox-core/backends/registry.ts';
import { settlesToZero } from '../../../helpers/leftovers.ts';

const runsc = which('runsc') !== undefined && process.getuid?.() === 0;
/** The platforms this runsc names in `runsc help platforms`. */
const known = runsc ? execFileSync('runsc', ['help', 'platforms']).toString().split('\n').filter(Boolean) : [];

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // gone meanwhile
  }
}

/** Live processes naming a state root of ours (runsc do and its sandbox and gofer carry --root). */
function runscProcesses(): number[] {
  return readProcTable()
    .filter((entry) => entry.state !== 'Z' && cmdline(entry.pid).includes(`rigor-gvisor-${process.pid}-`))
    .map((entry) => entry.pid);
}

describe('gvisor variants', () => {
  it('takes a platform of ptrace, kvm or systrap: one backend per platform, an unknown one named', () => {
    expect(variantOptionOwners().get('platform')).toEqual(['gvisor']);
    const kvm = backendFor('gvisor', { platform: 'kvm' });
    expect(kvm).not.toBe(gvisorBackend);
    expect(backendFor('gvisor', { platform: 'kvm' })).toBe(kvm);
    expect(gvisorBackend.variantProblems({ platform: 'xen' })).toEqual(['platform: expected one of ptrace, kvm, systrap, found "xen"']);
    expect(() => backendFor('gvisor', { machine: 'pc' })).toThrow('backend gvisor takes no option machine; it takes platform');
  });
});

describe.skipIf(!runsc)('runsc probes (skipped: no runsc on PATH, or not root)', () => {
  it('reads the version runsc --version prints', async () => {
    expect(await runscVersion()).toBe(/runsc version (\S+)/.exec(execFileSync('runsc', ['--version']).toString())![1]);
  });

  it('runs ptrace, once per process', async () => {
    const first = probePlatform('ptrace');
    expect(probePlatform('ptrace')).toBe(first);
    expect(await first).toEqual({ ok: true });
  });

  it.skipIf(known.includes('systrap'))('names a platform this runsc does not have, with what runsc said', async () => {
    const probe = await backendFor('gvisor', { platform: 'systrap' }).available();
    expect(probe).toEqual({ ok: false, reason: 'runsc --platform=systrap do true exited 128: unknown platform: systrap' });
  });

  it(
    'answers for kvm within its deadline, ok or with a reason, and leaves no runsc process or state root behind',
    async () => {
      const probe = await probePlatform('kvm');
      if (!probe.ok) expect(probe.reason).toMatch(/^runsc --platform=kvm /);
      if (!existsSync('/dev/kvm')) expect(probe).toEqual({ ok: false, reason: 'runsc --platform=kvm needs /dev/kvm, which this host has not' });
      // the killed probe's sandbox dies by its parent-death signal, moments after runsc do
      expect(await settlesToZero(() => runscProcesses().length)).toBe(0);
      expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-gvisor-${process.pid}-`))).toEqual([]);
    },
    PROBE_TIMEOUT_MS + 20_000,
  );
});
