/** The leak census: what is new after a run, per kind, and what a real sandbox leaves when it is not destroyed. */
import { afterAll, describe, expect, it } from 'vitest';
import { LEAK_KINDS, leaksBetween, takeCensus, type Census } from '../../../../runner/workloads/sandbox/leak-census.ts';
import { getBackend } from '../../../../sandbox-core/backends/registry.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';

const empty = (): Census => ({ processes: [], mounts: [], cgroups: [], temp_dirs: [], containers: [] });
const alive: Sandbox[] = [];
afterAll(() => Promise.all(alive.map((sandbox) => sandbox.destroy())));

describe('leaksBetween', () => {
  it('lists per kind what the second census holds and the first did not; what went away is no leak', () => {
    const before = { ...empty(), processes: ['10@1', '11@1'], mounts: ['m #1'], temp_dirs: ['/tmp/rigor-process-1-aaaaaa'] };
    const after = { ...empty(), processes: ['11@1', '12@5'], mounts: ['m #1', 'm #2'], containers: ['rigor-1-0'] };
    expect(leaksBetween(before, after)).toEqual({ processes: ['12@5'], mounts: ['m #2'], cgroups: [], temp_dirs: [], containers: ['rigor-1-0'] });
  });
});

describe('takeCensus', () => {
  it("counts a live process sandbox's processes, and nothing once it is destroyed", async () => {
    const backend = getBackend('process');
    // What the backend keeps for the process (a helper started on first use) is there before the census, as in a load run.
    await (await backend.create({})).destroy();
    const before = await takeCensus(backend);
    const sandbox = await backend.create({});
    alive.push(sandbox);
    const during = leaksBetween(before, await takeCensus(backend));
    expect(during.processes.length).toBeGreaterThan(0);
    await sandbox.destroy();
    alive.pop();
    let after = leaksBetween(before, await takeCensus(backend));
    // An orphan is reaped by PID 1 lazily on this host: a leak is what is still there once that had its time.
    for (let polls = 0; polls < 100 && LEAK_KINDS.some((kind) => after[kind].length > 0); polls++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = leaksBetween(before, await takeCensus(backend));
    }
    for (const kind of LEAK_KINDS) expect(after[kind], kind).toEqual([]);
  });
});
