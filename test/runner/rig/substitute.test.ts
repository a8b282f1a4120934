import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { cellParams, placeholders, substitute } from '../../../runner/rig/substitute.ts';
import { parseRig } from '../../../runner/rig/load.ts';

const params = { backend: 'bwrap', n: 4, fast: true, none: null, argv: ['echo', 'hi'] };

describe('substitute', () => {
  it('fills {name} inside strings, with numbers and booleans as text and null as nothing', () => {
    expect(substitute('run {backend} x{n} {fast}[{none}]', params)).toBe('run bwrap x4 true[]');
  });

  it('gives a string that is exactly "{name}" the value itself, so a list stays a list', () => {
    expect(substitute('{argv}', params)).toEqual(['echo', 'hi']);
    expect(substitute('{n}', params)).toBe(4);
    expect(substitute('{none}', params)).toBeNull();
  });

  it('goes through lists and mappings, leaving keys and non-strings alone', () => {
    expect(substitute({ '{backend}': ['{backend}', 2, { deep: 'n={n}' }], flag: false }, params)).toEqual({
      '{backend}': ['bwrap', 2, { deep: 'n=4' }],
      flag: false,
    });
  });

  it('treats {{ as a literal brace, and leaves ${VAR} and non-name braces as written', () => {
    expect(substitute('{{backend} {{', params)).toBe('{backend} {');
    expect(substitute('echo ${HOME} {1..3} {print $1} {"a":1}', params)).toBe('echo ${HOME} {1..3} {print $1} {"a":1}');
  });

  it('throws an InputError naming an unknown parameter and the known ones', () => {
    expect(() => substitute(['ok', 'run {backnd}'], params)).toThrow(InputError);
    expect(() => substitute('run {backnd}', params)).toThrow(/unknown parameter \{backnd\}.*known: backend, n, fast, none, argv/);
  });

  it('refuses a list in the middle of a string', () => {
    expect(() => substitute('run {argv} now', params)).toThrow(/\{argv\} is a list of 2/);
  });
});

describe('placeholders', () => {
  it('lists the names used, not escapes or shell variables', () => {
    expect(placeholders('{a} {{b} ${c} {d-e} {1}')).toEqual(['a', 'd-e']);
  });
});

describe('cellParams', () => {
  it('overlays the cell params on rig.params and substitutes from both', () => {
    const { rig } = parseRig(
      [
        'name: demo',
        'title: t',
        'claim: c',
        'workload: command',
        'params: { run: "{runner} --mode {mode}", mode: fast, runner: none }',
        'matrix: { runner: [bwrap, runc] }',
        'metrics: { wall_ms: { unit: ms, better: lower, clock: "a -> b" } }',
      ].join('\n'),
      'rigs/demo.rig.yaml',
    );
    expect(cellParams(rig, { id: 'runner=runc', params: { runner: 'runc' } })).toEqual({ run: 'runc --mode fast', mode: 'fast', runner: 'runc' });
  });
});
