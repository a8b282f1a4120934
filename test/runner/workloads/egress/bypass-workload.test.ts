/**
 * egress.bypass from inside every backend with egress, on real sandboxes behind
 * the real egress path: every class tried (host sockets too), none gets
 * through, and a host cell judges intercepted requests as well.
 */
import { describe, expect, it } from 'vitest';
import { bypassWorkload } from '../../../../runner/workloads/egress/bypass-workload.ts';
import { backendFor } from '../../../../sandbox-core/backends/registry.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { testCell } from '../../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

const CLASSES = ['alias', 'fronting', 'exfil', 'fail_open', 'host_socket'];
const metrics = Object.fromEntries(CLASSES.flatMap((cls) => [[`bypasses_${cls}`, { kind: 'counted' as const }], [`attempts_${cls}`, { kind: 'counted' as const }]]));

const BACKENDS = ['bwrap', 'runc', 'gvisor', 'docker', 'podman', 'qemu'];
const available = await Promise.all(BACKENDS.map(async (name) => (await backendFor(name).available()).ok));

function cell(params: Record<string, unknown>) {
  return testCell({ workload: 'egress.bypass', params, sampling: { warmup: 0, iterations: 1, timeout_s: 300 }, metrics }).ctx;
}

describe('egress.bypass', () => {
  it('checks its params', () => {
    expect(paramProblemsOf(bypassWorkload, { backend: 'process', mode: 'tunnel' })[0]).toMatch(/^params\.backend: expected one of host, bwrap, runc, gvisor, docker, podman, qemu/);
    expect(paramProblemsOf(bypassWorkload, { backend: 'host', mode: 'sideways' })).toEqual(['params.mode: expected one of tunnel, intercept, found "sideways"']);
  });

  it('host, intercept: plain and intercepted requests of every class but host sockets, none through', async () => {
    const result = await bypassWorkload.run(cell({ backend: 'host', mode: 'intercept', variants: 20 }));
    for (const cls of ['alias', 'fronting', 'exfil', 'fail_open']) {
      expect(result.samples[`bypasses_${cls}`], cls).toEqual([0]);
      expect(result.samples[`attempts_${cls}`]![0], cls).toBeGreaterThan(0);
    }
    expect(result.samples.attempts_host_socket).toBeUndefined();
  }, 120_000);

  for (const [index, backend] of BACKENDS.entries()) {
    it.skipIf(!available[index])(`${backend}, tunnel: from inside, every class (host sockets too) tried and refused`, async () => {
      const result = await bypassWorkload.run(cell({ backend, mode: 'tunnel', variants: backend === 'qemu' ? 6 : 12 }));
      for (const cls of CLASSES) {
        expect(result.samples[`bypasses_${cls}`], cls).toEqual([0]);
        expect(result.samples[`attempts_${cls}`]![0], cls).toBeGreaterThan(0);
      }
      expect(liveSandboxes()).toHaveLength(0);
    }, 300_000);
  }
});
