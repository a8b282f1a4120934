/**
 * engine.cycle against the real engines the docker and podman backends use
 * (a private dockerd as root when none answers; podman with its flags), under
 * runc: every mode yields its metrics from commands that really ran, the
 * artifact is told which engine and which command lines, and nothing of ours
 * is left in the engine — after a cell, after a cell cut short, and after a
 * rigor that died (its containers are swept by the next). An engine that
 * cannot run here is skipped with the backend's reason.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { CellSampling } from '../../../../runner/contract/workload.ts';
import { backendConnector } from '../../../../runner/workloads/engine-cycle/connector.ts';
import type { EngineName } from '../../../../runner/workloads/engine-cycle/connection.ts';
import { containerName, listOursStep, type EngineCli } from '../../../../runner/workloads/engine-cycle/steps.ts';
import { engineCycleWorkload, MODE_METRICS } from '../../../../runner/workloads/engine-cycle/workload.ts';
import { testCell } from '../../../helpers/cell-context.ts';

const workload = engineCycleWorkload(backendConnector);
const ALL = Object.fromEntries(
  Object.values(MODE_METRICS)
    .flat()
    .map((name) => [name, name.endsWith('_per_s') ? { unit: 'ops/s', better: 'higher' as const } : {}]),
);

/** Names of our containers the engine has, as the engine lists them. */
async function ours(engine: EngineCli): Promise<string[]> {
  const step = listOursStep(engine);
  const listed = await execa(step.file, step.argv.slice(1), { env: engine.env });
  return listed.stdout.split('\n').filter(Boolean);
}

function cell(engine: EngineName, params: Record<string, unknown>, sampling: Partial<CellSampling> = {}) {
  return testCell({ workload: 'engine.cycle', params: { engine, runtime: 'runc', ...params }, sampling: { iterations: 2, warmup: 0, timeout_s: 300, ...sampling }, metrics: ALL });
}

for (const engine of ['podman', 'docker'] as const) {
  const skip = await backendConnector.skipReason(engine, 'runc');
  describe.skipIf(skip !== null)(`engine.cycle on ${engine}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    it('times the five steps of each container, says what ran, and leaves nothing behind', async () => {
      const { ctx } = cell(engine, { mode: 'breakdown' });
      const result = await workload.run(ctx);
      for (const name of MODE_METRICS.breakdown) expect(result.samples[name], name).toHaveLength(2);
      const [cycle] = result.samples.cycle_ms!;
      const steps = ['create_ms', 'start_ms', 'exec_ms', 'stop_ms', 'rm_ms'].reduce((sum, name) => sum + result.samples[name]![0]!, 0);
      expect(cycle).toBeGreaterThanOrEqual(steps); // the cycle holds its five commands
      expect(result.facts).toMatchObject({ engine: { cli: engine, runtime: 'runc' }, mode: 'breakdown', command: ['echo', 'hello'] });
      const argv = (result.facts!.timed_argv as Record<string, string[]>).exec!;
      expect(argv.slice(-3)).toEqual(['<name>', 'echo', 'hello']);
      expect(argv[0]).toBe(engine);
      const opened = await backendConnector.open(engine, 'runc');
      expect(await ours(opened.cli)).toEqual([]);
    }, 300_000);

    it('makes one sample of a load run and keeps every latency behind its percentiles', async () => {
      const { ctx } = cell(engine, { mode: 'cycles', cycles: 4, parallel: 2 }, { iterations: 1 });
      const result = await workload.run(ctx);
      const [run] = result.facts!.load_runs as { latencies_ms: number[]; wall_ms: number }[];
      expect(run!.latencies_ms).toHaveLength(4);
      expect(result.samples.cycles_wall_ms).toEqual([run!.wall_ms]);
      expect(result.samples.cycles_per_s).toEqual([4 / (run!.wall_ms / 1000)]);
      expect(result.samples.cycle_p99_ms![0]).toBeLessThanOrEqual(Math.max(...run!.latencies_ms));
      expect(result.samples.cycle_p50_ms![0]).toBeGreaterThanOrEqual(Math.min(...run!.latencies_ms));

      const concurrent = await workload.run(cell(engine, { mode: 'concurrent', requests: 3 }, { iterations: 1 }).ctx);
      expect((concurrent.facts!.load_runs as { latencies_ms: number[] }[])[0]!.latencies_ms).toHaveLength(3);
      expect(concurrent.samples.requests_per_s).toHaveLength(1);
    }, 300_000);

    it('removes its containers when the cell is cut short, and sweeps those of a rigor that died', async () => {
      const opened = await backendConnector.open(engine, 'runc');
      const engineCli = opened.cli;
      // A container of a dead rigor: its pid is above pid_max's ceiling, so no process has it.
      const dead = containerName(2 ** 22 + 7, 0);
      const create = [...engineCli.globalArgs, 'create', '--name', dead, '--network', 'none', ...engineCli.runArgs, engineCli.image, 'true'];
      await execa(engineCli.cli, create, { env: engineCli.env });

      const { ctx, abort } = cell(engine, { mode: 'breakdown' }, { iterations: 50 });
      const running = workload.run(ctx);
      // Cut short while a container of the cell exists (made, not yet removed), whatever step it is at.
      let seen: string[] = [];
      while (!(seen = await ours(engineCli)).some((name) => name !== dead)) await new Promise((resolve) => setTimeout(resolve, 20));
      abort(new Error('cut short by the test'));
      const result = await running;
      expect(result.truncated).toMatch(/\S/);
      expect((result.samples.cycle_ms ?? []).length).toBeLessThan(50);
      expect(result.facts!.swept_leftovers).toEqual([dead]);
      expect(seen.filter((name) => name !== dead)[0]).toMatch(new RegExp(`^rigor-cycle-${process.pid}-\\d+$`));
      expect(await ours(engineCli)).toEqual([]);
    }, 300_000);
  });
}
