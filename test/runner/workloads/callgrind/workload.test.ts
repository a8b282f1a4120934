/** The callgrind workload on real programs under real valgrind: a C loop of N against 2N iterations, and the native agent. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileC } from '../../../../base/compile-c.ts';
import { WorkloadError } from '../../../../runner/contract/workload.ts';
import { RigError } from '../../../../runner/rig/errors.ts';
import { parseRig } from '../../../../runner/rig/load.ts';
import { callgrindWorkload } from '../../../../runner/workloads/callgrind/workload.ts';
import { workloadChecks } from '../../../../runner/workloads/index.ts';
import { testCell } from '../../../helpers/cell-context.ts';
import { childrenOf, waitFor } from '../../../helpers/processes.ts';

const SOURCE = fileURLToPath(new URL('../../../fixtures/programs/spin.c', import.meta.url));
const INSTRUCTIONS = { instructions: { unit: 'instructions', kind: 'counted' as const, clock: 'instructions (Ir) under callgrind' } };
const scratch = mkdtempSync(join(tmpdir(), 'rigor-callgrind-test-'));
const spin = join(scratch, 'spin');
beforeAll(() => compileC([SOURCE], spin, { flags: ['-O1'] }));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The workload's own temp dirs (rigor-callgrind-<our pid>-XXXXXX) still there. */
const ownTempDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-callgrind-${process.pid}-`));

async function counts(params: Record<string, unknown>, iterations = 2): Promise<number[]> {
  const { ctx } = testCell({ workload: 'callgrind', params, sampling: { warmup: 0, iterations }, metrics: INSTRUCTIONS });
  const result = await callgrindWorkload.run(ctx);
  return result.samples.instructions ?? [];
}

describe('callgrind workload: a command', () => {
  it('counts more instructions for 2N iterations than for N, and the same for the same run', async () => {
    const [n, again] = await counts({ run: [spin, '100000'] });
    const [twice] = await counts({ run: [spin, '200000'] }, 1);
    expect(n).toBeGreaterThan(100_000);
    expect(again).toBe(n);
    expect(twice! - n!).toBeGreaterThan(100_000);
  });

  it('with toggle_collect counts only inside the named function: a loop costs the same per iteration, exactly', async () => {
    const toggle = { toggle_collect: ['spin'] };
    const [n, again] = await counts({ run: [spin, '100000'], ...toggle });
    const [twice] = await counts({ run: [spin, '200000'], ...toggle }, 1);
    const [thrice] = await counts({ run: [spin, '300000'], ...toggle }, 1);
    expect(again).toBe(n);
    expect(twice! - n!).toBeGreaterThanOrEqual(100_000);
    expect(thrice! - twice!).toBe(twice! - n!);
  });

  it('records what was counted and valgrind, and leaves no temp dir', async () => {
    const { ctx } = testCell({ workload: 'callgrind', params: { run: [spin, '10'], toggle_collect: ['spin'] }, sampling: { warmup: 1, iterations: 1 }, metrics: INSTRUCTIONS });
    const result = await callgrindWorkload.run(ctx);
    expect(result.facts?.callgrind).toMatchObject({
      args: ['--tool=callgrind', '--quiet', '--callgrind-out-file=<temp dir>/callgrind.out.%p', '--collect-atstart=no', '--toggle-collect=spin'],
      env: { PATH: expect.stringContaining('/usr/bin') },
    });
    expect(result.facts?.program).toMatchObject({ argv0: spin, path: spin });
    expect(result.tools?.valgrind).toMatch(/^\d+\.\d+/);
    expect(ownTempDirs()).toEqual([]);
  });

  it('fails a run that exits otherwise than expected, naming it, unless expect_exit says so', async () => {
    const { ctx } = testCell({ workload: 'callgrind', params: { run: [spin, '10', '3'] }, sampling: { warmup: 0, iterations: 2 }, metrics: INSTRUCTIONS });
    const error = (await callgrindWorkload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toBe(`sample 1: ${spin} 10 3 under callgrind exited with code 3, expected exit code 0; stderr was empty`);
    expect(ownTempDirs()).toEqual([]);
    expect(await counts({ run: [spin, '10', '3'], expect_exit: 3 }, 1)).toHaveLength(1);
  });

  it('fails when toggle_collect names no function that ran (0 counted)', async () => {
    const { ctx } = testCell({ workload: 'callgrind', params: { run: [spin, '10'], toggle_collect: ['no_such_function'] }, sampling: { warmup: 0, iterations: 1 }, metrics: INSTRUCTIONS });
    await expect(callgrindWorkload.run(ctx)).rejects.toThrow(
      'sample 1: callgrind counted 0 instructions: none of toggle_collect (no_such_function) ran, or the compiler inlined it away (nm shows a binary\'s functions)',
    );
  });

  it('on interrupt kills valgrind, returns what was counted (nothing yet) as interrupted, and removes its temp files', async () => {
    const { ctx, abort } = testCell({ workload: 'callgrind', params: { run: [spin, '10', 'sleep'] }, sampling: { warmup: 0, iterations: 3 }, metrics: INSTRUCTIONS });
    const running = callgrindWorkload.run(ctx);
    const valgrind = await waitFor(() => childrenOf(process.pid).length > 0, 10_000);
    expect(valgrind).toBe(true);
    expect(ownTempDirs()).toHaveLength(1);
    abort(new Error('interrupted by SIGINT'));
    const result = await running;
    expect(result.truncated).toBe('interrupted');
    expect(result.samples.instructions ?? []).toEqual([]);
    expect(await waitFor(() => childrenOf(process.pid).length === 0)).toBe(true);
    expect(ownTempDirs()).toEqual([]);
  });
});

describe('callgrind workload: the native agent answering EXECs', () => {
  it('counts its exec path the same to within a few instructions per run, and names its build', async () => {
    const params = { drive: 'agent-exec', requests: 5, toggle_collect: ['handle_frame', 'finish_exec', 'put_ms'] };
    const { ctx } = testCell({ workload: 'callgrind', params, sampling: { warmup: 0, iterations: 3 }, metrics: INSTRUCTIONS });
    const result = await callgrindWorkload.run(ctx);
    const samples = result.samples.instructions!;
    expect(samples).toHaveLength(3);
    expect(Math.min(...samples)).toBeGreaterThan(0);
    expect(Math.max(...samples) / Math.min(...samples)).toBeLessThan(1.001);
    expect(result.facts?.agent).toMatchObject({ requests: 5, exec: ['/bin/true'], version: expect.stringMatching(/^rigor-agent [0-9a-f]{12}$/) });
    const [more] = await counts({ ...params, requests: 10 }, 1);
    expect(more!).toBeGreaterThan(Math.max(...samples) * 1.5);
  });

  it('fails the run at the EXEC whose command does not exit 0, naming it', async () => {
    const { ctx } = testCell({ workload: 'callgrind', params: { drive: 'agent-exec', requests: 3, exec: ['/bin/false'] }, sampling: { warmup: 0, iterations: 1 }, metrics: INSTRUCTIONS });
    await expect(callgrindWorkload.run(ctx)).rejects.toThrow(/^sample 1: EXEC 1 of 3: \/bin\/false exited with code 1, expected exit code 0; /);
    expect(await waitFor(() => childrenOf(process.pid).length === 0)).toBe(true);
    expect(ownTempDirs()).toEqual([]);
  });
});

describe('a rig with counted metrics, when it is loaded', () => {
  const rig = (workload: string, metrics: string, extra = '') =>
    ['name: demo', 'title: t', 'claim: c', `workload: ${workload}`, 'params: { run: ["true"] }', extra, 'metrics:', metrics].filter(Boolean).join('\n');
  const problems = (source: string): string => {
    try {
      parseRig(source, 'rigs/demo.rig.yaml', workloadChecks);
    } catch (error) {
      if (error instanceof RigError) return error.message;
      throw error;
    }
    return 'loaded';
  };
  const COUNTED = '  instructions: { unit: instructions, better: lower, kind: counted, clock: "instructions (Ir) under callgrind" }';
  const TIMED = '  wall_ms: { unit: ms, better: lower, clock: "spawn -> exit" }';

  it('loads a callgrind rig whose metrics are counted instructions', () => {
    expect(problems(rig('callgrind', COUNTED))).toBe('loaded');
  });

  it('refuses a metric the callgrind workload cannot fill: timed, or counted in another unit', () => {
    expect(problems(rig('callgrind', `${COUNTED}\n${TIMED}`))).toBe(
      'rigs/demo.rig.yaml:8:3: metrics.wall_ms: expected a counted metric in instructions (kind: counted, unit: instructions): the callgrind workload counts the instructions executed, Ir; it times nothing, found a timed metric in ms',
    );
    expect(problems(rig('callgrind', '  cycles: { unit: cycles, better: lower, kind: counted, clock: "cycles" }'))).toContain(
      'metrics.cycles: expected a counted metric in instructions',
    );
  });

  it('refuses a counted metric in a rig whose workload times', () => {
    expect(problems(rig('command', COUNTED))).toBe(
      'rigs/demo.rig.yaml:7:3: metrics.instructions: expected a metric the command workload fills: wall time (the first metric in ms), user_ms, sys_ms, or one that params.metrics says where to read (e.g. params.metrics.instructions: { from: stdout, json: instructions }), found a counted metric in instructions',
    );
    expect(problems(rig('command', '  wall_ms: { unit: ms, better: lower, kind: counted, clock: "runs" }'))).toBe(
      'rigs/demo.rig.yaml:7:3: metrics.wall_ms: expected a timed metric (the command workload times; a counted metric needs a counting workload, e.g. callgrind, or a source in params.metrics), found a counted metric in ms',
    );
  });

  it('accepts a metric that one of a rig\'s workloads can fill, when cells name their own', () => {
    const include = 'matrix:\n  tool: [counted, timed]\n  include:\n    - { tool: timed, workload: command }';
    expect(problems(rig('callgrind', `${COUNTED}\n${TIMED}`, include))).toBe('loaded');
  });
});
