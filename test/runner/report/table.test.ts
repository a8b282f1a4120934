import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../runner/report/table.ts';
import { renderWarnings } from '../../../runner/report/warning-box.ts';

const columns = [{ header: 'cell' }, { header: 'median', align: 'right' as const }, { header: 'note' }];
const rows = [
  ['backend=process', '0.912 ms', 'ok'],
  ['backend=bwrap', '6.10 ms', 'a much longer note that can be cut'],
];

describe('renderTable', () => {
  it('aligns columns under a header rule, numbers to the right', () => {
    const lines = renderTable(columns, rows, { maxWidth: 200 }).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('cell               median  note');
    expect(lines[1]).toMatch(/^─{15}  ─{8}  ─{34}$/);
    expect(lines[2]).toBe('backend=process  0.912 ms  ok');
    expect(lines[3]).toBe('backend=bwrap     6.10 ms  a much longer note that can be cut');
  });

  it('cuts the widest left-aligned column with … to fit, never a number', () => {
    const lines = renderTable(columns, rows, { maxWidth: 50 }).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(50);
    expect(lines[3]).toBe('backend=bwrap     6.10 ms  a much longer note tha…');
    expect(lines[2]).toContain('0.912 ms');
  });

  it('keeps a cut column readable when the width cannot be met', () => {
    const lines = renderTable(columns, rows, { maxWidth: 10 }).split('\n');
    expect(lines[3]).toContain('a much …');
  });
});

describe('renderWarnings', () => {
  it('sets every warning between rules, and nothing when there is none', () => {
    const box = renderWarnings(['first problem', 'second'], { maxWidth: 80 }).split('\n');
    expect(box).toEqual(['!'.repeat(25), '!! WARNING: first problem', '!! WARNING: second', '!'.repeat(25)]);
    expect(renderWarnings([])).toBe('');
  });
});
