import { describe, expect, it } from 'vitest';
import { choices, editDistance, nearest } from '../../../runner/rig/suggest.ts';

describe('editDistance', () => {
  it('counts inserts, deletes and substitutions', () => {
    expect(editDistance('iteratons', 'iterations')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('counts two swapped neighbours as one slip', () => {
    expect(editDistance('rnu', 'run')).toBe(1);
    expect(editDistance('setpu', 'setup')).toBe(1);
    expect(nearest('rnu', ['run', 'setup'])).toBe('run');
  });
});

describe('nearest', () => {
  it('suggests the closest name within distance 2', () => {
    expect(nearest('backnd', ['concurrency', 'backend'])).toBe('backend');
    expect(nearest('wall_ns', ['wall_ms', 'wall_s'])).toBe('wall_ms');
  });

  it('does not suggest a name that shares too little with the word', () => {
    expect(nearest('p42', ['p50', 'p90'])).toBeUndefined();
    expect(nearest('faster', ['lower', 'higher'])).toBeUndefined();
  });

  it('falls back to a name the word abbreviates', () => {
    expect(nearest('bin', ['binary', 'root'])).toBe('binary');
    expect(nearest('bi', ['binary'])).toBeUndefined();
  });
});

describe('choices', () => {
  it('lists the names and the likely one', () => {
    expect(choices('backnd', ['backend', 'concurrency'])).toBe('(backend, concurrency; did you mean "backend"?)');
    expect(choices('x', [], 'the rig has no matrix')).toBe('(the rig has no matrix)');
  });
});
