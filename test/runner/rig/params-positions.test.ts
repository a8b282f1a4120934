/** Each cell's params checked against its workload's schema when a rig loads, every problem placed where it is written. */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { RigError } from '../../../runner/rig/errors.ts';
import { parseRig } from '../../../runner/rig/load.ts';
import type { ParamsContract } from '../../../runner/rig/param-problems.ts';

/** Shaped like the command workload's params; `other` takes only `shared`. */
const contracts: Record<string, ParamsContract> = {
  commandish: {
    paramsSchema: z.strictObject({
      run: z.union([z.string(), z.array(z.string())]),
      setup: z.string().optional(),
      runs: z.int({ error: 'a whole number >= 1' }).min(1, { error: 'a whole number >= 1' }).optional(),
      shared: z.number().optional(),
    }),
    validateParams: (params) => (params.setup === 'forbidden' ? ['params.setup: expected anything but "forbidden", found "forbidden"'] : []),
  },
  other: { paramsSchema: z.strictObject({ shared: z.number(), only_other: z.number().optional() }) },
  unschemed: { validateParams: (params) => (params.run === undefined ? ['params.run: expected a command, found nothing'] : []) },
};

function problemsOf(body: string): string[] {
  const source = ['name: demo', 'title: t', 'claim: c', body, 'metrics: { wall_ms: { unit: ms, better: lower, clock: "a -> b" } }'].join('\n');
  try {
    parseRig(source, 'rigs/demo.rig.yaml', { workloads: (name) => name in contracts, params: (name) => contracts[name] });
  } catch (error) {
    if (error instanceof RigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('params checked at load', () => {
  it('places an unknown key of params: at its key, with the parameter it misspells', () => {
    expect(problemsOf(['workload: commandish', 'params:', '  run: "gzip -c in"', '  setpu: "make in"'].join('\n'))).toEqual([
      'rigs/demo.rig.yaml:7:3: params.setpu: expected a parameter of commandish (did you mean "setup"? allowed: run, setup, runs, shared), found unknown parameter "setpu"',
    ]);
  });

  it('places a misspelt key of an include entry where it is written, once for all its cells, and not as a missing key too', () => {
    const body = ['workload: commandish', 'matrix:', '  level: [1, 9]', '  include:', '    - { rnu: "gzip -c in" }'].join('\n');
    expect(problemsOf(body)).toEqual([
      'rigs/demo.rig.yaml:8:9: matrix.include[0].rnu: expected a parameter of commandish (did you mean "run"? allowed: run, setup, runs, shared), found unknown parameter "rnu"',
    ]);
  });

  it('places a wrong value at the axis value or include value that holds it', () => {
    const body = ['workload: commandish', 'params: { run: "true" }', 'matrix:', '  runs: [1, "two"]', '  include:', '    - { runs: 1, setup: 3 }'].join('\n');
    expect(problemsOf(body)).toEqual([
      'rigs/demo.rig.yaml:7:13: matrix.runs[1]: expected a whole number >= 1, found "two"',
      'rigs/demo.rig.yaml:9:25: matrix.include[0].setup: expected a string, found 3',
    ]);
  });

  it('says a value filled in by a {placeholder} at the param that reads it, with the cell', () => {
    const body = ['workload: commandish', 'params: { run: "true", runs: "{n}" }', 'matrix:', '  n: [2, "x"]'].join('\n');
    expect(problemsOf(body)).toEqual(['rigs/demo.rig.yaml:5:30: params.runs: expected a whole number >= 1, found "x" (from "{n}" in cell n=x)']);
  });

  it('says a missing param once, naming the cells that lack it when others have it', () => {
    const some = ['workload: commandish', 'params: { setup: "make" }', 'matrix:', '  level: [1, 9]', '  include:', '    - { level: 1, run: "gzip -1" }'].join('\n');
    expect(problemsOf(some)).toEqual(['rigs/demo.rig.yaml:5:9: params.run: expected a string or a list, found nothing in cell level=9']);
    const all = ['workload: commandish', 'matrix:', '  level: [1, 9]'].join('\n');
    expect(problemsOf(all)).toEqual(['rigs/demo.rig.yaml:6:3: params.run: expected a string or a list, found nothing']);
  });

  it('places a workload check at the key it names', () => {
    const body = ['workload: commandish', 'params:', '  run: "true"', '  setup: forbidden'].join('\n');
    expect(problemsOf(body)).toEqual(['rigs/demo.rig.yaml:7:10: params.setup: expected anything but "forbidden", found "forbidden"']);
  });

  it('leaves alone axes that name cells, keys a placeholder reads, and a rig-wide param another workload of the rig takes', () => {
    const body = [
      'workload: commandish',
      'params: { run: "{argv}", shared: 1 }',
      'matrix:',
      '  tool: [gzip, zstd, o]',
      '  include:',
      '    - { tool: gzip, argv: [gzip, -c] }',
      '    - { tool: zstd, argv: [zstd, -c], iterations: 5 }',
      '    - { tool: o, workload: other, only_other: 2 }',
    ].join('\n');
    expect(problemsOf(body)).toEqual([]);
  });

  it('takes an include key that names no parameter as a name or note of its cells, and reports one in params:', () => {
    const body = ['workload: other', 'params: { shared: 1, note: x }', 'matrix:', '  include:', '    - { label: fast, accel: tcg }'].join('\n');
    expect(problemsOf(body)).toEqual([
      'rigs/demo.rig.yaml:5:22: params.note: expected a parameter of other (allowed: shared, only_other), found unknown parameter "note"',
    ]);
  });

  it('points from a param a workload without a schema misses to the written key that likely misspells it', () => {
    expect(problemsOf(['workload: unschemed', 'params:', '  rnu: "true"'].join('\n'))).toEqual([
      'rigs/demo.rig.yaml:6:3: params.run: expected a command, found nothing (did you mean "run" for "rnu"?)',
    ]);
  });

  it('checks the sampling keys of cells and the workload an include entry names', () => {
    const body = ['workload: commandish', 'params: { run: "true" }', 'matrix:', '  include:', '    - { iterations: 0, workload: comandish }'].join('\n');
    expect(problemsOf(body)).toEqual([
      'rigs/demo.rig.yaml:8:21: matrix.include[0].iterations: expected an integer >= 1 (the cell\'s sampling.iterations), found 0',
      'rigs/demo.rig.yaml:8:34: matrix.include[0].workload: expected a registered workload or "command" (rigor list shows them), found "comandish"',
    ]);
  });
});
