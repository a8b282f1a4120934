import { describe, expect, it } from 'vitest';
import { formatBound, formatInterval, formatNumber, formatP, formatPercent, formatRatio, formatRatioAgainst, formatValue, pClause } from '../../../runner/report/number.ts';

describe('formatNumber', () => {
  it('keeps three significant digits and every integer digit', () => {
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(0.91234)).toBe('0.912');
    expect(formatNumber(123.45)).toBe('123');
    expect(formatNumber(12345.6)).toBe('12346');
    expect(formatNumber(1.5)).toBe('1.50');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(250)).toBe('250');
    expect(formatNumber(-4.567)).toBe('-4.57');
  });

  it('switches to exponent form for tiny magnitudes', () => {
    expect(formatNumber(0.0000123)).toBe('1.23e-5');
    expect(formatNumber(0.000123)).toBe('0.000123');
  });
});

describe('formatValue, formatRatio, formatInterval, formatP', () => {
  it('attaches the unit and shows a dash for a missing value', () => {
    expect(formatValue(12.345, 'ms')).toBe('12.3 ms');
    expect(formatValue(3.5, '')).toBe('3.50');
    expect(formatValue(250, 'ms')).toBe('250 ms');
    expect(formatValue(null, 'ms')).toBe('—');
  });

  it('gives ratios two decimals below 10', () => {
    expect(formatRatio(1.2234)).toBe('1.22×');
    expect(formatRatio(0.8)).toBe('0.80×');
    expect(formatRatio(123.4)).toBe('123×');
    expect(formatRatio(null)).toBe('—');
    expect(formatInterval({ low: 1.18, high: 1.2649 })).toBe('1.18–1.26');
  });

  it('writes p with two significant digits and a floor', () => {
    expect(formatP(0.0234)).toBe('0.023');
    expect(formatP(0.5)).toBe('0.50');
    expect(formatP(0.00031)).toBe('0.0003');
    expect(formatP(0.00001)).toBe('<0.0001');
    expect(formatP(null)).toBe('—');
    expect(pClause(0.00031)).toBe('p = 0.0003');
    expect(pClause(1e-9)).toBe('p < 0.0001');
  });
});

describe('formatRatioAgainst, formatBound, formatPercent', () => {
  it('adds the decimals that tell a ratio from a bound it is not equal to', () => {
    expect(formatRatioAgainst(1.2004, [1.2])).toBe('1.2004×');
    expect(formatRatioAgainst(1.1996, [1.2])).toBe('1.1996×');
    expect(formatRatioAgainst(1.204, [1.2])).toBe('1.204×');
    expect(formatRatioAgainst(0.9796, [0.98, 1.02])).toBe('0.9796×');
    expect(formatRatioAgainst(0.9786, [0.98, 1.02])).toBe('0.979×');
    expect(formatRatioAgainst(1.15, [1.2])).toBe('1.15×');
  });

  it('keeps two decimals for a ratio equal to its bound, and stops at six', () => {
    expect(formatRatioAgainst(1.2, [1.2])).toBe('1.20×');
    expect(formatRatioAgainst(1.2 + 1e-12, [1.2])).toBe('1.200000×');
  });

  it('writes a bound as the rig file does and a threshold as a percentage', () => {
    expect(formatBound(1.2)).toBe('1.2×');
    expect(formatBound(1.1)).toBe('1.1×');
    expect(formatPercent(0.02)).toBe('2%');
    expect(formatPercent(0.015)).toBe('1.5%');
    expect(formatPercent(0)).toBe('0%');
  });
});
