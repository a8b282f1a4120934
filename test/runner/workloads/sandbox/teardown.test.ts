import { describe, expect, it } from 'vitest';
import { teardown } from '../../../../runner/workloads/sandbox/teardown.ts';

describe('teardown', () => {
  it('runs every step in order though one fails, then throws the first failure', async () => {
    const ran: string[] = [];
    const steps = [
      async () => ran.push('sandbox'),
      async () => {
        ran.push('egress');
        throw new Error('egress would not close');
      },
      () => ran.push('upstream'),
      async () => {
        ran.push('dir');
        throw new Error('second failure');
      },
    ];
    await expect(teardown(steps)).rejects.toThrow('egress would not close');
    expect(ran).toEqual(['sandbox', 'egress', 'upstream', 'dir']);
    await expect(teardown([() => undefined])).resolves.toBeUndefined();
  });
});
