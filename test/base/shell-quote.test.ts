import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../base/shell-quote.ts';

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest, a quote inside as \'\\\'\'', () => {
    expect(shellQuote(['echo', 'a b', "it's", '--x=1'])).toBe(`echo 'a b' 'it'\\''s' --x=1`);
  });
});
