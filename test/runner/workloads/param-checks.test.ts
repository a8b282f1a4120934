import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatParamProblem, schemaProblems } from '../../../runner/rig/param-problems.ts';
import { Argv, Env, ExpectExit, argvProblems, envProblems, wholeNumber, wholeNumberProblems } from '../../../runner/workloads/param-checks.ts';

describe('wholeNumberProblems', () => {
  it('accepts whole numbers >= 1 and an absent optional one, and names the param, the unit and what was found', () => {
    expect(wholeNumberProblems({ n: 3 }, 'n')).toEqual([]);
    expect(wholeNumberProblems({}, 'n')).toEqual([]);
    expect(wholeNumberProblems({}, 'n', { required: true, unit: 'sandboxes' })).toEqual(['params.n: expected a whole number of sandboxes (>= 1), found nothing']);
    expect(wholeNumberProblems({ n: 0 }, 'n')).toEqual(['params.n: expected a whole number >= 1, found 0']);
    expect(wholeNumberProblems({ n: 2.5 }, 'n', { unit: 'MiB' })).toEqual(['params.n: expected a whole number of MiB (>= 1), found 2.5']);
    expect(wholeNumberProblems({ n: '4' }, 'n')).toEqual(['params.n: expected a whole number >= 1, found "4"']);
  });
});

describe('argvProblems', () => {
  it('accepts a non-empty list of strings naming a program, and an absent optional one', () => {
    expect(argvProblems({ run: ['echo', 'hi'] }, 'run')).toEqual([]);
    expect(argvProblems({}, 'run')).toEqual([]);
    expect(argvProblems({}, 'run', { required: true })).toEqual(['params.run: expected an argv list of strings, found nothing']);
    expect(argvProblems({ run: [] }, 'run')).toEqual(['params.run: expected an argv list of strings, found a list of 0']);
    expect(argvProblems({ run: ['', 'x'] }, 'run')).toEqual(['params.run: expected an argv list of strings, found a list of 2']);
    expect(argvProblems({ run: ['echo', 3] }, 'run')).toEqual(['params.run: expected an argv list of strings, found a list of 2']);
  });
});

describe('envProblems', () => {
  it('takes a mapping of names to scalars and names each value that is not one', () => {
    expect(envProblems(undefined)).toEqual([]);
    expect(envProblems({ A: 'x', B: 1, C: true })).toEqual([]);
    expect(envProblems(['A=1'])).toEqual(['params.env: expected a mapping of names to strings, found a list of 1']);
    expect(envProblems({ A: { b: 1 } })).toEqual(['params.env.A: expected a string, found a mapping']);
  });
});

describe('the same checks as schemas', () => {
  const Schema = z.strictObject({ n: wholeNumber({ unit: 'MiB' }).optional(), k: wholeNumber({ least: 2, most: 9 }).optional(), run: Argv.optional(), expect_exit: ExpectExit.optional(), env: Env.optional() });
  const problems = (params: Record<string, unknown>) => schemaProblems(Schema, params, 'w').map(formatParamProblem);

  it('word their problems as the functions do', () => {
    expect(problems({ n: 3, k: 2, run: ['echo'], expect_exit: 'any', env: { A: 1 } })).toEqual([]);
    expect(problems({ n: 2.5, k: 10, run: ['', 'x'], expect_exit: 256, env: { A: { b: 1 } } })).toEqual([
      'params.n: expected a whole number of MiB (>= 1), found 2.5',
      'params.k: expected a whole number from 2 to 9, found 10',
      'params.run: expected an argv list of strings, found a list of 2',
      "params.expect_exit: expected an exit code 0-255 or 'any', found 256",
      'params.env.A: expected a string, found a mapping',
    ]);
    expect(problems({ n: '4', env: ['A=1'], expect_exit: 'some' })).toEqual([
      'params.n: expected a whole number of MiB (>= 1), found "4"',
      "params.expect_exit: expected an exit code 0-255 or 'any', found \"some\"",
      'params.env: expected a mapping of names to strings, found a list of 1',
    ]);
  });
});
