import { describe, expect, it } from 'vitest';
import { parseEngineSize, parseStatsLine } from '../../../../sandbox-core/backends/engines/stats.ts';

describe('parseEngineSize', () => {
  it('reads docker binary units, podman decimal units and plain byte counts', () => {
    expect(parseEngineSize('0B')).toBe(0);
    expect(parseEngineSize('512KiB')).toBe(512 * 1024);
    expect(parseEngineSize('1.52MiB')).toBe(Math.round(1.52 * 1024 * 1024));
    expect(parseEngineSize('7.63GiB')).toBe(Math.round(7.63 * 1024 ** 3));
    expect(parseEngineSize('3.092MB')).toBe(3_092_000);
    expect(parseEngineSize('16.7kB')).toBe(16_700);
    expect(parseEngineSize('1536000')).toBe(1_536_000);
  });

  it('names the text it cannot read', () => {
    expect(() => parseEngineSize('--')).toThrow('expected a size like 1.5MiB, 3.09MB or a byte count, found "--"');
    expect(() => parseEngineSize('2 parsecs')).toThrow(/found "2 parsecs"/);
  });
});

describe('parseStatsLine', () => {
  it('takes the usage before the limit and the process count', () => {
    expect(parseStatsLine('1.5MiB / 7.63GiB\t3')).toEqual({ bytes: 1.5 * 1024 * 1024, processes: 3 });
    expect(parseStatsLine('1572864\t1\n')).toEqual({ bytes: 1_572_864, processes: 1 });
  });

  it('names a line without the two columns or with a non-numeric count', () => {
    expect(() => parseStatsLine('1.5MiB / 7.63GiB')).toThrow(/expected "<memory>\\t<pids>" from stats/);
    expect(() => parseStatsLine('1.5MiB / 7.63GiB\t--')).toThrow('expected a process count from stats, found "--"');
  });
});
