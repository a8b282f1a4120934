/**
 * `sandbox.density`: N idle sandboxes alive at once, and the host memory each
 * costs. Two readings per sample: the PSS the backend's stats() reports
 * (proportional set size from /proc/<pid>/smaps_rollup, shared pages split
 * between sharers), and the drop of MemAvailable in /proc/meminfo. Daemons
 * every sandbox of a backend shares (dockerd, containerd) are not per-sandbox
 * PSS: their PSS with the N alive is in the facts (`shared_mib`).
 */
import { readFileSync } from 'node:fs';
import { parseMeminfo } from '../../host/os.ts';
import { sampleLoop } from '../../sampling/loop.ts';
import type { Sandbox, SandboxStats } from '../../../sandbox-core/backends/types.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendSkipReason, backendUsesKvm, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { wholeNumber } from '../param-checks.ts';

const MIB = 1024 * 1024;
/** Sandboxes started at once while filling up (2 cores). */
const START_BATCH = 4;
/** Let the sandboxes settle (lazy allocations, page cache) before reading memory. */
const SETTLE_MS = 1000;

function memAvailableBytes(): number {
  return parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).MemAvailable ?? 0;
}

/**
 * The two readings of N idle sandboxes, in the order the clocks say:
 * MemAvailable first, while all N are ready and idle, then every stats()
 * (each reads smaps, a qemu guest's agent is asked), whose own work must not
 * fall inside the MemAvailable reading.
 */
export async function idleReadings(alive: readonly Sandbox[], memAvailable: () => number): Promise<{ after: number; stats: SandboxStats[] }> {
  const after = memAvailable();
  const stats = await Promise.all(alive.map((sandbox) => sandbox.stats()));
  return { after, stats };
}

export const densityWorkload: Workload = {
  name: 'sandbox.density',
  description: 'params.n idle sandboxes at once: host memory per sandbox (PSS from stats(), and MemAvailable drop)',
  paramsSchema: sandboxParams().extend({ n: wholeNumber({ unit: 'sandboxes' }) }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runDensity,
};

async function runDensity(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const spec = specOf(ctx.params);
  const n = ctx.params.n as number;
  let facts: Record<string, unknown> = {};
  const result = await sampleLoop(
    ctx,
    failuresAsWorkloadErrors(async (_index, signal) => {
      const before = memAvailableBytes();
      const alive: Sandbox[] = [];
      try {
        while (alive.length < n && !signal.aborted) {
          const batch = Math.min(START_BATCH, n - alive.length);
          const started = await Promise.allSettled(Array.from({ length: batch }, () => backend.create(spec, { signal })));
          for (const outcome of started) if (outcome.status === 'fulfilled') alive.push(outcome.value);
          const failed = started.find((outcome) => outcome.status === 'rejected');
          if (failed) throw failed.reason; // the ones that did start are destroyed below
        }
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const { after, stats } = await idleReadings(alive, memAvailableBytes);
        const pss = stats.reduce((sum, s) => sum + s.memory.bytes, 0);
        // what every sandbox shares (a container engine's daemons) is not in pss_per_sandbox_mib: recorded beside it
        const shared = stats[0]?.shared;
        const sharedFacts = shared ? { shared_mib: shared.bytes / MIB, shared_processes: shared.what, shared_method: shared.method } : {};
        facts = { ...sandboxFacts(alive[0]!), memory_kind: stats[0]?.memory.kind, memory_method: stats[0]?.memory.method, ...sharedFacts, n };
        return { pss_per_sandbox_mib: pss / n / MIB, memavailable_drop_per_sandbox_mib: (before - after) / n / MIB };
      } finally {
        await Promise.all(alive.map((sandbox) => sandbox.destroy()));
      }
    }),
  );
  return { ...result, facts };
}
