/**
 * How often rigor's two gates are wrong on this host, measured: each sample
 * is one trial of a gate on a pair of sides whose difference is set by
 * construction — B runs a busy loop `slowdown_pct` percent more iterations
 * than A (0: the same code). The trial's sides are measured the way the gate
 * expects them:
 * - `paired`: one interleaved run, `rounds` rounds of `per_round` samples of
 *   each side in a shuffled order, judged by the paired gate of `rigor ab`
 *   (runner/gate/paired.ts);
 * - `cross-run`: all of A's samples, then all of B's, as two runs made one
 *   after the other would be, judged by the cross-run gate of `rigor gate
 *   --baseline` (runner/gate/evaluate.ts).
 * Both call the gates' own functions on artifacts' cells built from the
 * samples. gate_failed is 1 when the gate called a regression: for
 * slowdown 0 a false failure, otherwise a slowdown caught.
 */
import { fileURLToPath } from 'node:url';
import { cachedCBuild } from '../../base/build-cache.ts';
import { z } from 'zod';
import type { Artifact, CellResult } from '../artifact/schema.ts';
import type { CellContext, Workload, WorkloadResult } from '../contract/workload.ts';
import { evaluateGates } from '../gate/evaluate.ts';
import { collectHost } from '../host/collect.ts';
import { evaluatePairedGates } from '../gate/paired.ts';
import { roundOrders } from '../interleave/schedule.ts';
import { openSpawner } from '../process/open-spawner.ts';
import type { Spawner } from '../process/spawner.ts';
import type { MetricDef, RelativeGate } from '../rig/schema.ts';
import { sampleLoop } from '../sampling/loop.ts';
import { wholeNumber } from './param-checks.ts';

const SOURCE = fileURLToPath(new URL('../../native/busy-loop.c', import.meta.url));
const WALL: MetricDef = { unit: 'ms', better: 'lower', clock: 'spawn requested -> child reaped (native helper)' };

const Params = z.strictObject({
  gate: z.enum(['paired', 'cross-run']),
  slowdown_pct: z.number().min(0),
  loop_iterations: wholeNumber(),
  rounds: wholeNumber({ least: 2 }),
  per_round: wholeNumber(),
  max_ratio: z.number().min(1),
  alpha: z.number({ error: 'a number in (0, 1)' }).gt(0, { error: 'a number in (0, 1)' }).lt(1, { error: 'a number in (0, 1)' }),
});
type Params = z.infer<typeof Params>;

/** A cell of one side as an artifact holds it, so the gates read it as they read any artifact. */
function sideCell(samples: number[], rounds: number[] | null): CellResult {
  return {
    id: 'side',
    params: {},
    status: 'ok',
    concurrency: 1,
    warmup: 0,
    metrics: { wall_ms: { ...WALL, samples, ...(rounds ? { rounds } : {}), summary: null } },
  };
}

async function trial(spawner: Spawner, p: Params, seed: number, signal: AbortSignal, binary: string, HOST: Artifact['host']): Promise<{ failed: number; ratio: number }> {
  // The binary's absolute path: nothing is looked up inside the timed window.
  const argv = {
    a: { file: binary, argv: [binary, String(p.loop_iterations)] },
    b: { file: binary, argv: [binary, String(Math.round(p.loop_iterations * (1 + p.slowdown_pct / 100)))] },
  };
  const once = async (side: 'a' | 'b') => {
    const run = await spawner.run(argv[side], { output: 'discard', timeoutMs: 30_000, signal });
    if (run.exitCode !== 0) throw new Error(`busy-loop exited ${run.exitCode ?? run.signal}: ${run.stderrTail}`);
    return run.wallMs;
  };
  const sides = { a: [] as number[], b: [] as number[] };
  const rounds = { a: [] as number[], b: [] as number[] };
  const gate: RelativeGate = { metric: 'wall_ms', stat: 'median', max_ratio: p.max_ratio, alpha: p.alpha };
  let result;
  if (p.gate === 'paired') {
    for (const [round, order] of roundOrders(['a', 'b'], p.rounds, seed).entries()) {
      for (const side of order as ('a' | 'b')[]) {
        for (let i = 0; i < p.per_round; i++) {
          sides[side].push(await once(side));
          rounds[side].push(round);
        }
      }
    }
    [result] = evaluatePairedGates([gate], { wall_ms: WALL }, { cells: [sideCell(sides.b, rounds.b)], host: HOST, ab: { base_cells: [sideCell(sides.a, rounds.a)] } });
  } else {
    for (const side of ['a', 'b'] as const) for (let i = 0; i < p.rounds * p.per_round; i++) sides[side].push(await once(side));
    const baseline = { cells: [sideCell(sides.a, null)], host: HOST } as unknown as Artifact;
    [result] = evaluateGates([gate], { wall_ms: WALL }, { cells: [sideCell(sides.b, null)], host: HOST }, baseline);
  }
  return { failed: result!.verdict === 'fail' ? 1 : 0, ratio: result!.ratio ?? Number.NaN };
}

export const gateCalibrationWorkload: Workload = {
  name: 'gate-calibration',
  description: 'How often the paired and the cross-run gate fail on a known slowdown (0 = same code) of a busy loop, one trial per sample',
  paramsSchema: Params,
  requirements: () => [{ binary: 'cc' }],
  async run(ctx: CellContext): Promise<WorkloadResult> {
    const p = ctx.params as unknown as Params;
    const build = await cachedCBuild({ kind: 'busy-loop', sources: [SOURCE], flags: ['-O2', '-std=c99', '-Wall'], fileName: 'busy-loop' });
    // One host block for both sides (this machine, read once), so no host warning bends a verdict.
    const host = await collectHost({ tools: [], probeKvm: false });
    const { spawner, note } = await openSpawner('native');
    try {
      // A few runs first: the binary and its pages are then as warm for A as for B.
      for (let i = 0; i < 5; i++) await spawner.run({ file: build.path, argv: [build.path, String(p.loop_iterations)] }, { output: 'discard', timeoutMs: 30_000, signal: ctx.signal });
      const result = await sampleLoop(ctx, async (index, signal) => {
        const { failed, ratio } = await trial(spawner, p, 0x5eed + index, signal, build.path, host);
        return { gate_failed: failed, ratio };
      });
      return {
        ...result,
        facts: {
          spawner: note,
          trial: { gate: p.gate, samples_per_side: p.rounds * p.per_round, rounds: p.gate === 'paired' ? p.rounds : null, max_ratio: p.max_ratio, alpha: p.alpha },
          loop: { a: p.loop_iterations, b: Math.round(p.loop_iterations * (1 + p.slowdown_pct / 100)), build_id: build.buildId },
        },
      };
    } finally {
      await spawner.close();
    }
  },
};
