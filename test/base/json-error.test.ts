/** jsonSyntaxError agrees with JSON.parse on what is JSON, and says where it stops without quoting the text. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../../base/json-error.ts';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
const check = (text: string) => jsonSyntaxError(Buffer.from(text, 'utf8'));

// Fixed seeds: a failure reproduces with the same cases.
const SEED = 16_03;

describe('jsonSyntaxError', () => {
  it('finds nothing wrong in any JSON value (fast-check, 3,000 values)', () => {
    fc.assert(
      fc.property(fc.json(), (text) => check(text) === null),
      { seed: SEED, numRuns: 3_000 },
    );
  });

  it('agrees with JSON.parse on arbitrary and mangled texts (fast-check, 10,000 cases)', () => {
    const mangled = fc.tuple(fc.json(), fc.nat(), fc.string({ maxLength: 3 })).map(([text, at, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + 1);
    });
    fc.assert(
      fc.property(fc.oneof(mangled, fc.string({ unit: 'grapheme-ascii' }), fc.string({ unit: 'binary' })), (text) => (check(text) === null) === parses(text)),
      { seed: SEED, numRuns: 10_000 },
    );
  });

  it('gives the byte offset and the byte, never the text around it', () => {
    expect(check('root:$y$j9T$secret')).toEqual({ byte: 0, reason: 'unexpected byte 0x72' });
    expect(check('{"a": 1,}')).toEqual({ byte: 8, reason: 'unexpected byte 0x7d' });
    expect(check('{"cells": [1, 2')).toEqual({ byte: 15, reason: 'unexpected end of input' });
    expect(check('{"é": tru')).toEqual({ byte: 10, reason: 'unexpected end of input' });
    expect(check('')).toEqual({ byte: 0, reason: 'unexpected end of input' });
    expect(check('1 2')).toEqual({ byte: 2, reason: 'unexpected byte 0x32' });
  });

  it('takes deep nesting without overflowing the call stack', () => {
    expect(check('['.repeat(200_000) + ']'.repeat(200_000))).toBeNull();
    expect(check('['.repeat(200_000))).toEqual({ byte: 200_000, reason: 'unexpected end of input' });
  });
});
