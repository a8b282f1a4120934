import { describe, expect, it } from 'vitest';
import { InputError } from '../../../../base/errors.ts';
import { parseCallgrindParams } from '../../../../runner/workloads/callgrind/params.ts';
import { callgrindWorkload } from '../../../../runner/workloads/callgrind/workload.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

describe('callgrind params', () => {
  it('takes a command with defaults, and the agent with its defaults', () => {
    expect(parseCallgrindParams({ run: ['./spin', '10'] })).toEqual({
      target: { kind: 'command', run: ['./spin', '10'], expectExit: 0 },
      toggleCollect: [],
      env: {},
    });
    expect(parseCallgrindParams({ drive: 'agent-exec', toggle_collect: ['handle_frame'], env: { LANG: 'C', N: 3 } })).toEqual({
      target: { kind: 'agent-exec', requests: 100, exec: ['/bin/true'] },
      toggleCollect: ['handle_frame'],
      env: { LANG: 'C', N: '3' },
    });
  });

  it('lists every problem, keeping the two targets apart', () => {
    expect(paramProblemsOf(callgrindWorkload, { run: 'spin 10', expect_exit: 300, requests: 5, toggle_collect: 'spin' })).toEqual([
      'params.run: expected an argv list of strings, found "spin 10"',
      "params.expect_exit: expected an exit code 0-255 or 'any', found 300",
      'params.toggle_collect: expected a list of function names (callgrind --toggle-collect, * and ? as wildcards), found "spin"',
    ]);
    expect(paramProblemsOf(callgrindWorkload, { run: ['./spin'], requests: 5 })).toEqual(['params.requests: expected nothing without drive: agent-exec, found 5']);
    expect(paramProblemsOf(callgrindWorkload, { drive: 'agent-exec', run: ['x'], requests: 0, exec: [] })).toEqual([
      'params.requests: expected a whole number of requests (>= 1), found 0',
      'params.exec: expected an argv list of strings, found a list of 0',
    ]);
    expect(paramProblemsOf(callgrindWorkload, { drive: 'agent-exec', run: ['x'] })).toEqual([
      'params.run: expected nothing with drive: agent-exec (the program is the native agent), found a list of 1',
    ]);
    expect(paramProblemsOf(callgrindWorkload, { drive: 'agent', env: ['A=1'] })).toEqual([
      'params.drive: expected agent-exec (or no drive: run a command to its exit), found "agent"',
      'params.env: expected a mapping of names to strings, found a list of 1',
    ]);
  });

  it('says a misspelt run once, as the typo', () => {
    expect(paramProblemsOf(callgrindWorkload, { rnu: ['./spin'] })).toEqual([
      'params.rnu: expected a parameter of callgrind (did you mean "run"? allowed: drive, requests, exec, run, expect_exit, toggle_collect, env), found unknown parameter "rnu"',
    ]);
  });

  it('throws them all as one InputError', () => {
    expect(() => parseCallgrindParams({})).toThrow(new InputError('params.run: expected an argv list of strings (or drive: agent-exec), found nothing'));
    expect(() => parseCallgrindParams({ run: 'spin', requests: 0 })).toThrow(
      new InputError('params.requests: expected a whole number of requests (>= 1), found 0\nparams.run: expected an argv list of strings, found "spin"'),
    );
  });
});
