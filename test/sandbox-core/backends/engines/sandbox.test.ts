import { describe, expect, it } from 'vitest';
import { hostIdOf } from '../../../../sandbox-core/backends/engines/sandbox.ts';

describe('hostIdOf', () => {
  it('finds the host id of an id inside in a uid_map, whichever line holds it', () => {
    const map = '         0     100000      65536\n';
    expect(hostIdOf(map, 0)).toBe(100000);
    expect(hostIdOf(map, 1000)).toBe(101000);
    expect(hostIdOf('0 1500000000 1\n1000 1500000001 1\n', 1000)).toBe(1500000001);
  });

  it('names an id the map leaves out', () => {
    expect(() => hostIdOf('     65534      65534          1\n', 1000)).toThrow('uid 1000 is not mapped in');
  });
});
