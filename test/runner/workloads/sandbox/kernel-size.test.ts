/**
 * guest.kernel-size and the qemu params of the lifecycle workload (the
 * kernel-boot rig) on real guests: every qemu cell names its kernel and
 * command line, and the sizes come from the files the guests booted.
 */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lifecycleWorkload } from '../../../../runner/workloads/sandbox/lifecycle.ts';
import { kernelSizeWorkload } from '../../../../runner/workloads/sandbox/kernel-size.ts';
import { QemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { testCell } from '../../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

const MIB = 1024 * 1024;
const rigor = await new QemuBackend({ kernel: 'rigor' }).available();
const debian = await new QemuBackend({ kernel: 'debian-cloud' }).available();

describe('qemu params', () => {
  it('are checked, and only for qemu', () => {
    expect(paramProblemsOf(lifecycleWorkload, { backend: 'bwrap', kernel: 'rigor' })).toEqual(['params.kernel: expected nothing with backend "bwrap" (only qemu takes kernel), found "rigor"']);
    expect(paramProblemsOf(lifecycleWorkload, { backend: 'qemu', kernel: 'linux', machine: 'q35', cmdline: 'Best!' })).toEqual([
      'params.kernel: expected one of rigor, debian-cloud, found "linux"',
      'params.machine: expected one of microvm, pc, found "q35"',
      'params.cmdline: expected the name of a preset in kernel/cmdline (like best), found "Best!"',
    ]);
    expect(paramProblemsOf(kernelSizeWorkload, { kernel: 'rigor', measure_build: 'yes' })).toEqual(['params.measure_build: expected true or false, found "yes"']);
    expect(paramProblemsOf(kernelSizeWorkload, { kernel: 'rigor', backend: 'qemu' })).toEqual([
      'params.backend: expected a parameter of guest.kernel-size (allowed: kernel, measure_build), found unknown parameter "backend"',
    ]);
  });

  it.skipIf(!rigor.ok)('lifecycle: a cell with kernel, machine and cmdline boots that and says so in its facts', async () => {
    const { ctx } = testCell({
      workload: 'sandbox.lifecycle',
      params: { backend: 'qemu', kernel: 'rigor', machine: 'microvm', cmdline: 'none' },
      sampling: { warmup: 0, iterations: 1, timeout_s: 120 },
      metrics: { launch_to_init_ms: {}, launch_to_ready_ms: {} },
    });
    const result = await lifecycleWorkload.run(ctx);
    expect(result.samples.launch_to_init_ms![0]).toBeLessThan(result.samples.launch_to_ready_ms![0]!);
    const guest = result.facts!.guest as { machine: string; cmdline_preset: string; cmdline: string; kernel: { version: string; build: { config_sha256: string; patches: unknown[] } } };
    expect(guest).toMatchObject({ machine: 'microvm', cmdline_preset: 'none' });
    expect(guest.cmdline).not.toMatch(/\bquiet\b/);
    expect(guest.kernel.version).toMatch(/-rigor$/);
    expect(guest.kernel.build.config_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.isArray(guest.kernel.build.patches)).toBe(true);
    expect(liveSandboxes()).toHaveLength(0);
  }, 180_000);
});

describe.skipIf(!debian.ok)('guest.kernel-size', () => {
  it("measures the image files the guest booted and its idle memory", async () => {
    const { ctx } = testCell({
      workload: 'guest.kernel-size',
      params: { kernel: 'debian-cloud' },
      sampling: { warmup: 0, iterations: 1, timeout_s: 120 },
      metrics: Object.fromEntries(['image_mib', 'boot_elf_mib', 'idle_pss_mib', 'guest_mem_total_mib', 'guest_used_mib'].map((name) => [name, { unit: 'MiB' }])),
    });
    const result = await kernelSizeWorkload.run(ctx);
    const kernel = (result.facts!.guest as { kernel: { file: string; boot: { file: string } } }).kernel;
    expect(result.samples.image_mib).toEqual([statSync(kernel.file).size / MIB]);
    expect(result.samples.boot_elf_mib).toEqual([statSync(kernel.boot.file).size / MIB]);
    expect(result.samples.build_s).toBeUndefined();
    const [total] = result.samples.guest_mem_total_mib!;
    expect(total).toBeGreaterThan(128);
    expect(total).toBeLessThan(256);
    expect(result.samples.guest_used_mib![0]).toBeLessThan(total!);
    expect(result.samples.idle_pss_mib![0]).toBeGreaterThan(10);
  }, 180_000);
});
