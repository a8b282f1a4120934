import { describe, expect, it } from 'vitest';
import { changeRatioWithCI, changeSentence, verdictText } from '../../../runner/report/change-words.ts';

const words = { stat: 'median', ratio: 1.2004, ratio_ci95: { low: 1.19, high: 1.21 }, change: 'worse' as const, reason: null, alpha: 0.05, noise: 0.02 };

describe('change words', () => {
  it('says same with its reason, in the words compare and gate share', () => {
    expect(verdictText(words)).toBe('worse');
    expect(verdictText({ ...words, change: 'same', reason: 'not significant' })).toBe('same (p ≥ 0.05)');
    expect(verdictText({ ...words, change: 'same', reason: 'within noise' })).toBe('same (within ±2% noise)');
    expect(verdictText({ ...words, stat: 'p99', change: 'same', reason: 'directions disagree' })).toBe('same (p99 and samples moved opposite ways)');
  });

  it('gives the ratio the digits that tell it from the noise threshold and the bounds asked for', () => {
    expect(changeRatioWithCI(words)).toBe('1.20× [1.19–1.21]');
    expect(changeRatioWithCI(words, [1.2])).toBe('1.2004× [1.19–1.21]');
    expect(changeRatioWithCI({ ...words, ratio: 1.0196 })).toBe('1.0196× [1.19–1.21]');
    expect(changeRatioWithCI({ ...words, ratio: null })).toBe('—');
  });

  it('puts candidate before baseline, as the ratio divides', () => {
    expect(changeSentence({ ...words, p: 0.00002, candidate: '12.0 ms', baseline: '10.0 ms', test: 'Mann-Whitney U' }, [1.2])).toBe(
      'median 12.0 ms vs 10.0 ms: 1.2004× [1.19–1.21], p < 0.0001 (Mann-Whitney U) → worse',
    );
  });
});
