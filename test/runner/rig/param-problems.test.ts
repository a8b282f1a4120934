import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { formatParamProblem, keyRoles, paramProblems, parseParamProblem, schemaProblems, type KeyRole } from '../../../runner/rig/param-problems.ts';

/** Shaped like the command workload's params: one required command, optional hooks and settings. */
const Commandish = z.strictObject({
  run: z.union([z.string(), z.array(z.string())]),
  setup: z.string().optional(),
  cleanup: z.string().optional(),
  output: z.enum(['discard', 'pipe', 'keep']).optional(),
  runs: z.int().min(1).optional(),
  ratio: z.number().gt(0).lt(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  size: z.int({ error: 'a whole number of MiB (>= 1)' }).min(1, { error: 'a whole number of MiB (>= 1)' }).optional(),
});

const formatted = (params: Record<string, unknown>, roleOf?: (key: string) => KeyRole) =>
  schemaProblems(Commandish, params, 'commandish', roleOf).map(formatParamProblem);

describe('schemaProblems', () => {
  it('names an unknown key with the one it likely misspells, and the known ones', () => {
    expect(formatted({ run: 'true', setpu: 'make' })).toEqual([
      'params.setpu: expected a parameter of commandish (did you mean "setup"? allowed: run, setup, cleanup, output, runs, ratio, env, size), found unknown parameter "setpu"',
    ]);
  });

  it('says a misspelt required key once, as the typo (swapped letters count as one slip)', () => {
    expect(schemaProblems(Commandish, { rnu: 'true' }, 'commandish')).toEqual([
      {
        path: ['rnu'],
        unknown: true,
        suggestion: 'run',
        expected: 'a parameter of commandish (did you mean "run"? allowed: run, setup, cleanup, output, runs, ratio, env, size)',
        found: 'unknown parameter "rnu"',
      },
    ]);
  });

  it('words types, bounds, choices and unions as the rig file fields are', () => {
    expect(formatted({ run: 3, output: 'loud', runs: 0, ratio: 1, env: { A: 1 }, size: 2.5 })).toEqual([
      'params.run: expected a string or a list, found 3',
      'params.output: expected one of discard, pipe, keep, found "loud"',
      'params.runs: expected a number >= 1, found 0',
      'params.ratio: expected a number < 1, found 1',
      'params.env.A: expected a string, found 1',
      'params.size: expected a whole number of MiB (>= 1), found 2.5',
    ]);
    expect(formatted({ run: 'x', output: 'keeep' })).toEqual(['params.output: expected one of discard, pipe, keep (did you mean "keep"?), found "keeep"']);
    expect(formatted({})).toEqual(['params.run: expected a string or a list, found nothing']);
  });

  it('leaves labels alone unless the schema names them', () => {
    expect(formatted({ run: 'x', tool: 'gzip' }, (key) => (key === 'tool' ? 'label' : undefined))).toEqual([]);
    expect(formatted({ run: 'x', runs: 'many' }, (key) => (key === 'runs' ? 'label' : undefined))).toEqual(['params.runs: expected an integer, found "many"']);
  });

  it('takes a matrix key that names no parameter as the name of cells, unless it misspells one', () => {
    const cell = () => 'cell' as const;
    expect(formatted({ run: 'x', tool: 'gzip' }, cell)).toEqual([]);
    expect(formatted({ run: 'x', setpu: 'make' }, cell)).toEqual([
      'params.setpu: expected a parameter of commandish (did you mean "setup"? allowed: run, setup, cleanup, output, runs, ratio, env, size), found unknown parameter "setpu"',
    ]);
    // A misspelling of a parameter the cell has already set is another key.
    expect(formatted({ run: 'x', setup: 'make', setpu: 'make' }, cell)).toEqual([]);
  });
});

describe('parseParamProblem', () => {
  it('splits a workload check into path, expected and found', () => {
    expect(parseParamProblem('params.env.HOME: expected a string, found a mapping', { env: { HOME: {} } })).toEqual({ path: ['env', 'HOME'], expected: 'a string', found: 'a mapping' });
    expect(parseParamProblem('params.run: expected an argv, found nothing', {})).toEqual({ path: ['run'], expected: 'an argv', found: 'nothing', missing: true });
  });

  it('keeps a message of another form as the expectation, with the value found', () => {
    expect(parseParamProblem('params.kernel: only for qemu', { kernel: 'rigor' })).toEqual({ path: ['kernel'], expected: 'only for qemu', found: '"rigor"' });
  });
});

describe('paramProblems', () => {
  const contract = {
    paramsSchema: z.strictObject({ drive: z.literal('agent').optional(), run: z.string().optional(), requests: z.int().optional() }),
    validateParams: (params: Record<string, unknown>) => [
      ...(params.drive === undefined && params.run === undefined ? ['params.run: expected a command (or drive: agent), found nothing'] : []),
      ...(params.drive === undefined && params.requests !== undefined ? [`params.requests: expected nothing without drive: agent, found ${String(params.requests)}`] : []),
    ],
  };
  const problems = (params: Record<string, unknown>) => paramProblems(contract, params, { workload: 'w' }).map(formatParamProblem);

  it('runs the cross-field checks only on values of the declared types', () => {
    expect(problems({ requests: 'x' })).toEqual(['params.requests: expected an integer, found "x"']);
    expect(problems({ requests: 3, run: 'true' })).toEqual(['params.requests: expected nothing without drive: agent, found 3']);
  });

  it('runs them beside unknown keys, dropping the missing key a typo stands for', () => {
    expect(problems({ rnu: 'true', requests: 3 })).toEqual([
      'params.rnu: expected a parameter of w (did you mean "run"? allowed: drive, run, requests), found unknown parameter "rnu"',
      'params.requests: expected nothing without drive: agent, found 3',
    ]);
  });

  it('without a schema, is the workload checks alone', () => {
    expect(paramProblems({ validateParams: () => ['params.x: expected y, found z'] }, { anything: 1 }, { workload: 'w' })).toEqual([{ path: ['x'], expected: 'y', found: 'z' }]);
  });
});

describe('keyRoles', () => {
  const rig = {
    workload: 'a',
    params: { run: '{argv}', shared: 1, setpu: 'x' },
    matrix: { tool: ['gzip'], include: [{ tool: 'gzip', argv: ['gzip'], accel: 'tcg', note: 'n' }] },
    requires: [{ binary: '{bin}' }],
    gates: [{ metric: 'wall_ms', max: 1, where: { accel: 'tcg' } }],
  };
  const schemas = [z.strictObject({ shared: z.number() })];
  const roleOf = keyRoles(rig, schemas)({ tool: 'gzip', argv: ['gzip'], accel: 'tcg', note: 'n' });

  it('takes keys a placeholder or a where reads, runner keys and a rig-wide param another workload takes as labels', () => {
    expect(['argv', 'bin', 'accel', 'iterations', 'workload', 'shared'].map(roleOf)).toEqual(['label', 'label', 'label', 'label', 'label', 'label']);
  });

  it("takes the cell's other axis and include keys as its own, and the rest of params: as the workload's", () => {
    expect(['tool', 'note', 'setpu'].map(roleOf)).toEqual(['cell', 'cell', undefined]);
  });

  it('judges a cell that sets the rig-wide param itself', () => {
    expect(keyRoles(rig, schemas)({ shared: 2 })('shared')).toBe('cell');
  });
});
