import { describe, expect, it } from 'vitest';
import type { ChangePoint } from '../../../runner/history/change-points.ts';
import { formatChange } from '../../../runner/history/format.ts';

const change = (forwardChange: number, pValue: number): ChangePoint => ({ index: 3, before: { mean: 10, n: 3 }, after: { mean: 10 * (1 + forwardChange), n: 4 }, pValue, forwardChange });

describe('formatChange', () => {
  it('shows direction, size and p, and whether that is worse for this metric', () => {
    expect(formatChange(change(0.31, 0.0002), 'lower')).toBe('▲ +31% (p=0.0002) worse');
    expect(formatChange(change(-0.12, 0.00001), 'lower')).toBe('▼ −12% (p<0.0001) better');
    expect(formatChange(change(-0.12, 0.00001), 'higher')).toBe('▼ −12% (p<0.0001) worse');
    expect(formatChange(change(0.034, 0.0005), 'higher')).toBe('▲ +3.4% (p=0.0005) better');
  });
});
