/**
 * `guest.kernel-size`: what a guest kernel costs besides boot time — its
 * image on disk, how long the project's kernel takes to build, and the
 * memory of a guest at idle — for one kernel per cell (params.kernel).
 *
 * - image: the kernel file qemu is given (the package's or the build's
 *   bzImage) and the unpacked ELF it actually boots, one sample each;
 * - build (kernel: rigor, params.measure_build): one real build from
 *   Debian's source into a temp cache of its own, timed whole (extract,
 *   patch, configure, compile), then removed; the manifest of the cached
 *   build used by the guests is in facts either way;
 * - idle memory, one fresh guest per sample, read after it settled: the
 *   host's PSS of its qemu process, and inside the guest MemTotal (RAM less
 *   what the kernel keeps for itself) and MemTotal − MemAvailable.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKernel } from '../../../kernel/build.ts';
import { GUEST_KERNELS, type GuestKernel } from '../../../sandbox-core/backends/qemu.ts';
import { DEFAULT_MEMORY_MIB } from '../../../sandbox-core/backends/qemu/sandbox.ts';
import { z } from 'zod';
import { parseMeminfo } from '../../host/os.ts';
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendSkipReason, preparedBackend, sandboxFacts } from './backend-param.ts';

const MIB = 1024 * 1024;
/** Lazy allocations and the agent's first requests done before memory is read. */
const SETTLE_MS = 1000;

export const kernelSizeWorkload: Workload = {
  name: 'guest.kernel-size',
  description: "a guest kernel's image size, build time (the project's kernel) and idle guest memory (params.kernel)",
  // The guest is qemu's with this kernel: no other backend or variant option applies.
  paramsSchema: z.strictObject({ kernel: z.enum(GUEST_KERNELS), measure_build: z.boolean().optional() }),
  skipReason: (params) => backendSkipReason({ ...params, backend: 'qemu' }),
  usesKvm: () => true,
  run: runKernelSize,
};

async function runKernelSize(ctx: CellContext): Promise<WorkloadResult> {
  const kernel = ctx.params.kernel as GuestKernel;
  const backend = await preparedBackend({ ...ctx, params: { backend: 'qemu', kernel } });
  const samples: Record<string, number[]> = {};
  const facts: Record<string, unknown> = {};

  if (kernel === 'rigor' && ctx.params.measure_build === true) {
    const cacheRoot = await mkdtemp(join(tmpdir(), 'rigor-kernel-size-'));
    try {
      ctx.log('building the kernel from source into a temp cache (minutes)');
      const start = performance.now();
      const build = await buildKernel({ cacheRoot, signal: ctx.signal, progress: (line) => ctx.log(line) });
      samples.build_s = [(performance.now() - start) / 1000];
      facts.measured_build = { key: build.manifest.key, build_seconds: build.manifest.build_seconds, image_bytes: build.manifest.image_bytes };
    } finally {
      await rm(cacheRoot, { recursive: true, force: true });
    }
  }

  let guest: Record<string, unknown> | undefined;
  const result = await sampleLoop(
    ctx,
    failuresAsWorkloadErrors(async () => {
      const sandbox = await backend.create({}, { signal: ctx.signal });
      try {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const [memory, meminfo] = await Promise.all([sandbox.stats(), sandbox.exec({ argv: ['cat', '/proc/meminfo'] })]);
        const fields = parseMeminfo(meminfo.stdout.toString('utf8'));
        if (fields.MemTotal === undefined || fields.MemAvailable === undefined) throw new Error(`the guest's /proc/meminfo has no MemTotal or MemAvailable: ${meminfo.stdout.toString('utf8').slice(0, 200)}`);
        guest ??= { ...sandboxFacts(sandbox), pss_method: memory.memory.method };
        return {
          idle_pss_mib: memory.memory.bytes / MIB,
          guest_mem_total_mib: fields.MemTotal / MIB,
          guest_used_mib: (fields.MemTotal - fields.MemAvailable) / MIB,
        };
      } finally {
        await sandbox.destroy();
      }
    }),
  );

  // The files the guests above booted, as their facts name them.
  const files = (guest?.guest as { kernel?: { file: string; boot: { file: string } } } | undefined)?.kernel;
  if (files) {
    samples.image_mib = [(await stat(files.file)).size / MIB];
    samples.boot_elf_mib = [(await stat(files.boot.file)).size / MIB];
  }
  return { ...result, samples: { ...result.samples, ...samples }, facts: { ...guest, ...facts, guest_ram_mib: DEFAULT_MEMORY_MIB } };
}
