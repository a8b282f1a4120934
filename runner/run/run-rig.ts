/**
 * Run one rig end to end, the way runner/site/ builds the site: load the rig,
 * plan every cell without running anything (plan.ts), execute the plan
 * (execute.ts), assemble the artifact once from what was measured
 * (assemble.ts), write it. The artifact is written also when the run is
 * interrupted (status `interrupted`, holding what was measured). The
 * destination is checked before anything is measured; when writing fails
 * anyway, the samples go to a recovery file (artifact/recovery.ts).
 */
import { randomUUID } from 'node:crypto';
import { relative, resolve } from 'node:path';
import type { Artifact } from '../artifact/schema.ts';
import { writeArtifactOrRecover } from '../artifact/recovery.ts';
import { assertWritableDestination } from '../artifact/write.ts';
import { collectHost, finishHost } from '../host/collect.ts';
import { collectGit } from '../host/git.ts';
import { probeKvm } from '../../sandbox-core/kvm/probe.ts';
import { loadRig } from '../rig/load.ts';
import { applyOverrides } from '../rig/overrides.ts';
import type { HostFacts } from '../rig/requirements.ts';
import { which } from '../../base/which.ts';
import { getWorkload, isBatchedWorkload, workloadChecks } from '../workloads/index.ts';
import { assembleArtifact } from './assemble.ts';
import { executePlan } from './execute.ts';
import { executeInterleaved, type InterleaveOptions } from './execute-interleaved.ts';
import { planRun, usesKvm } from './plan.ts';
import { openRunScratch, removeRunScratch, withRunSteps } from './run-steps.ts';
import type { ProgressSink } from './progress.ts';

export interface RunOptions {
  rigPath: string;
  /** --set key=value, in order. */
  sets?: string[];
  /** --iterations N: overrides sampling.iterations (and max_iterations) of every cell. */
  iterations?: number;
  /** Where the artifact goes; default results/<rig>/. */
  outDir?: string;
  commandLine: string[];
  progress: ProgressSink;
  signal: AbortSignal;
  /** Repository root, for relative rig paths and git metadata. */
  root?: string;
  /** --interleave: the cells in shuffled rounds instead of one after another. */
  interleave?: InterleaveOptions;
  /** --trial: the artifact says it is a try-out (run.trial), never a baseline. */
  trial?: boolean;
  /** Where the artifact's text goes when neither outDir nor a recovery file can take it; default stdout. */
  lastResort?: (text: string) => void;
}

export interface RunOutcome {
  artifact: Artifact;
  /** Path of the written artifact. */
  path: string;
}

/** What the host can give a cell's requirements: root, binaries on PATH, KVM (probed only when asked). */
function hostFacts(): HostFacts {
  return {
    isRoot: process.getuid?.() === 0,
    hasBinary: (name) => which(name) !== null,
    kvmUsable: async () => {
      const kvm = await probeKvm();
      return { usable: kvm.status === 'usable', reason: `${kvm.status}: ${kvm.reason}` };
    },
  };
}

export async function runRig(options: RunOptions): Promise<RunOutcome> {
  const root = options.root ?? process.cwd();
  const loaded = loadRig(options.rigPath, { ...workloadChecks, batched: isBatchedWorkload });
  const { rig, applied } = applyOverrides(loaded.rig, options.sets ?? []);
  const overrides: Record<string, unknown> = { ...applied };
  if (options.iterations !== undefined) overrides.iterations = options.iterations;
  const outDir = options.outDir ?? resolve(root, 'results', rig.name);
  // A wrong --out or a read-only results folder is found before anything is measured.
  assertWritableDestination(outDir);
  const scratch = openRunScratch();
  let artifact: Artifact;
  try {
    const plan = { ...planRun(rig, { iterations: options.iterations, workloads: getWorkload, scratch }), scratch };
    const startedAt = new Date().toISOString();

    const host = await collectHost({ tools: plan.tools, probeKvm: usesKvm(plan) });
    const git = collectGit(root);
    const context = { facts: hostFacts(), signal: options.signal, progress: options.progress };
    const executed = await withRunSteps(plan, { signal: options.signal, note: (line) => options.progress.note(line) }, () =>
      options.interleave ? executeInterleaved(plan, context, options.interleave) : executePlan(plan, context),
    );
    artifact = assembleArtifact({
      rig,
      definition: loaded.rig,
      rigPath: relative(root, resolve(loaded.path)),
      rigSha256: loaded.sha256,
      runId: randomUUID(),
      commandLine: options.commandLine,
      overrides,
      ...(options.trial ? { trial: true } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
      interrupted: options.signal.aborted,
      executed,
      git,
      host: finishHost(host),
      env: process.env,
    });
  } finally {
    removeRunScratch(scratch);
  }
  // A destination that fails now (a full disk) keeps the samples: a recovery file, else stdout.
  const path = writeArtifactOrRecover(artifact, outDir, { lastResort: options.lastResort ?? ((text) => process.stdout.write(text)) });
  return { artifact, path };
}
