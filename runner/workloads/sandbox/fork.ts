/**
 * `sandbox.fork`, as Capsem measures its fork: one parent per cell, running throughout, writes files and
 * "installs" a binary into its workspace (busybox copied to /workspace/bin: both backends' roots are
 * read-only); per sample, a fork() of it (time, allocated size of the image), a child started from the image
 * (fromFork → ready), and the files verified in the child by sha256 (counted); the parent must still answer
 * after each fork. A backend without fork is skipped with its reason.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLoop } from '../../sampling/loop.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { backendUsesKvm, capabilitySkipReason, checkExec, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { fillsByName } from './metric-fill.ts';
import { teardown } from './teardown.ts';

/** Files the parent writes before the first fork, each of FILE_BYTES random bytes, beside the installed binary. */
const FILES = 16;
const FILE_BYTES = 64 * 1024;
const INSTALLED = '/workspace/bin/busybox';

export const forkWorkload: Workload = {
  name: 'sandbox.fork',
  description: 'fork() of a running sandbox (time, allocated image size), a child from the image (fromFork → ready), files verified in the child (params.backend)',
  paramsSchema: sandboxParams(),
  validateParams: variantProblems,
  skipReason: (params) => capabilitySkipReason(params, 'fork'),
  usesKvm: backendUsesKvm,
  cannotFill: fillsByName('sandbox.fork', ['fork_ms', 'child_ready_ms'], { image_mib: 'MiB', files_survived: 'files' }),
  run: runFork,
};

/** Writes the files and installs the binary in `parent`; their sha256 by workspace-relative path. */
async function populate(parent: Sandbox, timeoutMs: number): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  const mkdir = ['mkdir', '-p', '/workspace/data', '/workspace/bin'];
  checkExec(mkdir, await parent.exec({ argv: mkdir, timeoutMs }));
  for (let i = 0; i < FILES; i++) {
    const data = randomBytes(FILE_BYTES);
    await parent.writeFile(`/workspace/data/f${i}`, data);
    expected.set(`data/f${i}`, createHash('sha256').update(data).digest('hex'));
  }
  const install = ['sh', '-c', `cp /bin/busybox ${INSTALLED} && chmod 755 ${INSTALLED} && sha256sum ${INSTALLED}`];
  const installed = await parent.exec({ argv: install, timeoutMs });
  checkExec(install, installed);
  expected.set('bin/busybox', installed.stdout.toString().split(/\s+/)[0]!);
  return expected;
}

/** How many of the expected files the child holds with the same sha256, the installed binary run once too. */
async function survivors(child: Sandbox, expected: Map<string, string>, timeoutMs: number): Promise<number> {
  const run = [INSTALLED, 'true'];
  checkExec(run, await child.exec({ argv: run, timeoutMs }));
  const sums = await child.exec({ argv: ['sh', '-c', `cd /workspace && sha256sum ${[...expected.keys()].join(' ')}`], timeoutMs });
  const found = new Map(
    sums.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .map(([sum, path]) => [path!, sum!] as const),
  );
  return [...expected].filter(([path, sum]) => found.get(path) === sum).length;
}

async function runFork(ctx: CellContext): Promise<WorkloadResult> {
  const backend = await preparedBackend(ctx);
  const timeoutMs = ctx.sampling.timeout_s * 1000;
  const root = mkdtempSync(join(tmpdir(), 'rigor-fork-rig-'));
  const parent = await backend.create(specOf(ctx.params), { signal: ctx.signal });
  let facts: Record<string, unknown> = {};
  let n = 0;
  try {
    const expected = await populate(parent, timeoutMs);
    const result = await sampleLoop(
      ctx,
      failuresAsWorkloadErrors(async () => {
        const dir = join(root, `f${n++}`);
        let child: Sandbox | undefined;
        try {
          // fork_ms is the backend's forkMs: its clock stops at the rename, before the size walk and the parent's resume.
          const info = await parent.fork!(dir);
          checkExec(['true'], await parent.exec({ argv: ['true'], timeoutMs }));
          const childStart = performance.now();
          child = await backend.fromFork!(dir, { signal: ctx.signal });
          const childReady = performance.now() - childStart;
          const survived = await survivors(child, expected, timeoutMs);
          if (Object.keys(facts).length === 0) {
            facts = { parent: sandboxFacts(parent), image: { copy: info.copy, holds: info.holds, logical_mib: info.bytes / 2 ** 20 }, child_phases: child.phases, files_expected: expected.size };
          }
          return { fork_ms: info.forkMs, image_mib: info.allocatedBytes / 2 ** 20, child_ready_ms: childReady, files_survived: survived };
        } finally {
          await teardown([() => child?.destroy(), () => rmSync(dir, { recursive: true, force: true })]);
        }
      }),
    );
    return { ...result, facts: { ...result.facts, ...facts } };
  } finally {
    await teardown([() => parent.destroy(), () => rmSync(root, { recursive: true, force: true })]);
  }
}
