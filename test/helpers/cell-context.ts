/** A CellContext for tests: a real parsed rig, progress recorded, an abort controller at hand. */
import { RigFile, type MetricDef } from '../../runner/rig/schema.ts';
import type { CellContext, CellSampling, SampleProgress } from '../../runner/contract/workload.ts';

export interface TestCell {
  ctx: CellContext;
  progress: SampleProgress[];
  abort(reason?: unknown): void;
}

export function testCell(options: {
  workload?: string;
  params?: Record<string, unknown>;
  sampling?: Partial<CellSampling>;
  metrics?: Record<string, Partial<MetricDef>>;
}): TestCell {
  const metrics = Object.fromEntries(
    Object.entries(options.metrics ?? { wall_ms: {} }).map(([name, def]) => [
      name,
      { unit: 'ms', better: 'lower', clock: 'spawn requested -> child exited (waitpid)', ...def },
    ]),
  );
  const rig = RigFile.parse({ name: 'test', title: 'Test', claim: 'A test rig.', workload: options.workload ?? 'command', metrics });
  const base = { ...rig.sampling, warmup: 0, iterations: 3, ...options.sampling };
  const sampling: CellSampling = { ...base, max_iterations: options.sampling?.max_iterations ?? base.iterations };
  const controller = new AbortController();
  const progress: SampleProgress[] = [];
  const ctx: CellContext = {
    rig,
    cellId: 'test',
    params: options.params ?? {},
    sampling,
    metrics: Object.keys(metrics),
    signal: controller.signal,
    progress: (p) => progress.push(p),
    log: () => {},
  };
  return { ctx, progress, abort: (reason) => controller.abort(reason) };
}
