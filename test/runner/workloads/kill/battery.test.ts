/**
 * The kill battery in CI: per backend this host has, one `rigor run lifecycle`
 * SIGKILLed at a seeded point of its run, then the next run; nothing of the
 * killed run may be left (rigs/kill.rig.yaml gives the big figure).
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../../../sandbox-core/backends/registry.ts';
import { killDelays, runKillBattery } from '../../../../runner/workloads/kill/battery.ts';

describe('killDelays', () => {
  it('spreads the seeded kill points over [0, run) and repeats them for a seed', () => {
    const delays = killDelays(16, 200, 5000);
    expect(delays.every((delay) => Number.isInteger(delay) && delay >= 0 && delay < 5000)).toBe(true);
    expect(killDelays(16, 200, 5000)).toEqual(delays);
    expect(killDelays(17, 200, 5000)).not.toEqual(delays);
    // both halves of the run are hit: kills land in launch and in exec/destroy
    expect(delays.some((delay) => delay < 2500) && delays.some((delay) => delay >= 2500)).toBe(true);
  });
});

const BACKENDS = ['process', 'bwrap', 'runc', 'gvisor', 'podman', 'docker', 'qemu'];
const available = Object.fromEntries(await Promise.all(BACKENDS.map(async (name) => [name, (await getBackend(name).available()).ok] as const)));

describe('one SIGKILL of rigor run per backend', () => {
  it.each(BACKENDS.filter((name) => available[name]))('%s: nothing of the killed run is left after the next run', async (backend) => {
    const result = await runKillBattery({ rig: 'lifecycle', backend, iterations: 1, kills: 1, seed: 16, timeoutMs: 120_000 });
    expect(result.kills).toHaveLength(1);
    expect(result.kills[0]!.leftovers).toEqual([]);
  }, 240_000);
});
