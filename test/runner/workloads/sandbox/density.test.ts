/** The density readings on the real process backend: MemAvailable is read while the sandboxes idle, before stats() works. */
import { afterAll, describe, expect, it } from 'vitest';
import { idleReadings } from '../../../../runner/workloads/sandbox/density.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';
import { getBackend } from '../../../../sandbox-core/backends/registry.ts';

const alive: Sandbox[] = [];
afterAll(() => Promise.all(alive.map((sandbox) => sandbox.destroy())));

describe('idleReadings', () => {
  it('reads MemAvailable before any stats() call starts, then every sandbox stats()', async () => {
    const backend = getBackend('process');
    alive.push(await backend.create({}), await backend.create({}));
    const events: string[] = [];
    for (const [i, sandbox] of alive.entries()) {
      const stats = sandbox.stats.bind(sandbox);
      sandbox.stats = async () => {
        events.push(`stats ${i} called`);
        return stats();
      };
    }
    const { after, stats } = await idleReadings(alive, () => {
      events.push('MemAvailable read');
      return 1234;
    });
    expect(events).toEqual(['MemAvailable read', 'stats 0 called', 'stats 1 called']);
    expect(after).toBe(1234);
    expect(stats.map((s) => s.memory.kind)).toEqual(['pss', 'pss']);
    expect(stats.every((s) => s.memory.bytes > 0)).toBe(true);
  });
});
