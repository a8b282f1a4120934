import { describe, expect, it } from 'vitest';
import { CallgrindOutError, instructionsIn, parseCallgrindOut } from '../../../../runner/workloads/callgrind/out-file.ts';

/** The shape valgrind 3.19 writes (header, cost lines, totals), cut short. */
const WRITTEN = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  ./spin 1000
part: 1


desc: I1 cache: 
desc: D1 cache: 
desc: LL cache: 

desc: Timerange: Basic block 0 - 1004
desc: Trigger: Program termination

positions: line
events: Ir
summary: 6005


ob=(1) /tmp/spin
fl=(1) ???
fn=(1) spin
0 6005

totals: 6005
`;

describe('callgrind output file', () => {
  it('reads the events and the totals line', () => {
    expect(parseCallgrindOut(WRITTEN, 'callgrind.out.4242')).toEqual({ events: ['Ir'], totals: { Ir: 6005 }, from: 'totals' });
    expect(instructionsIn(WRITTEN, 'callgrind.out.4242')).toBe(6005);
  });

  it('prefers totals to a summary that disagrees, and falls back to the summary without totals', () => {
    const disagreeing = WRITTEN.replace('summary: 6005', 'summary: 5980');
    expect(instructionsIn(disagreeing, 'f')).toBe(6005);
    const withoutTotals = WRITTEN.replace('totals: 6005\n', '');
    expect(parseCallgrindOut(withoutTotals, 'f')).toEqual({ events: ['Ir'], totals: { Ir: 6005 }, from: 'summary' });
  });

  it('reads several events, a left-out trailing count as 0, and sums the totals of combined parts', () => {
    const text = 'events: Ir Dr Dw\nsummary: 10 4 2\ntotals: 7 3\npart: 2\ntotals: 3 1 2\n';
    expect(parseCallgrindOut(text, 'f')).toEqual({ events: ['Ir', 'Dr', 'Dw'], totals: { Ir: 10, Dr: 4, Dw: 2 }, from: 'totals' });
  });

  it('says what is missing, naming the file', () => {
    const fail = (text: string) => () => instructionsIn(text, '/tmp/x/callgrind.out.7');
    expect(fail('totals: 5\n')).toThrow(new CallgrindOutError('/tmp/x/callgrind.out.7: expected an "events:" line naming what was counted, found none'));
    expect(fail('events: Ir\n')).toThrow('/tmp/x/callgrind.out.7: expected a "totals:" or "summary:" line, found neither (did callgrind finish writing it?)');
    expect(fail('events: Dr Dw\ntotals: 1 2\n')).toThrow('/tmp/x/callgrind.out.7: expected the event Ir (instructions) among the events, found Dr Dw');
    expect(fail('events: Ir\ntotals: lots\n')).toThrow('/tmp/x/callgrind.out.7:2: expected counts (whole numbers), found "lots"');
  });
});
