/**
 * sandbox.enforcement on real sandboxes behind the real egress path: every
 * attempt refused, one audit event per attempt, nothing upstream. bwrap for
 * each probe; qemu for DNS, the path (guestfwd → host relay → resolver)
 * the egress test does not cover; gvisor for HTTPS and DNS through its
 * agent's relay and runsc's gofer.
 */
import { describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../../sandbox-core/backends/bwrap.ts';
import { gvisorBackend } from '../../../../sandbox-core/backends/gvisor.ts';
import { qemuBackend } from '../../../../sandbox-core/backends/qemu.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { enforcementWorkload } from '../../../../runner/workloads/sandbox/enforcement.ts';
import { testCell } from '../../../helpers/cell-context.ts';
import { paramProblemsOf } from '../../../helpers/param-problems.ts';

const metrics = { guest_refusal_ms: {}, host_refusal_ms: {} };
const bwrap = await bwrapBackend.available();
const qemu = await qemuBackend.available();
const gvisor = await gvisorBackend.available();

async function runCell(backend: string, probe: string, iterations: number) {
  const { ctx } = testCell({ workload: 'sandbox.enforcement', params: { backend, probe }, sampling: { warmup: 1, iterations, timeout_s: 60 }, metrics });
  return enforcementWorkload.run(ctx);
}

describe('sandbox.enforcement', () => {
  it('checks its params', () => {
    expect(paramProblemsOf(enforcementWorkload, { backend: 'process', probe: 'dns' })).toEqual(['params.backend: expected a backend with egress (bwrap, runc, gvisor, docker, podman, qemu), found "process"']);
    expect(paramProblemsOf(enforcementWorkload, { backend: 'bwrap', probe: 'smtp' })).toEqual(['params.probe: expected one of https, dns, exec, fronted, aliased, found "smtp"']);
  });

  it.skipIf(!bwrap.ok)('bwrap: a blocked CONNECT is refused 403 inside, audited once each, and the upstream sees no connection', async () => {
    const result = await runCell('bwrap', 'https', 4);
    expect(result.samples.guest_refusal_ms).toHaveLength(4);
    expect(result.facts).toMatchObject({ attempts: 5, outcomes: { 403: 5 }, audit_events: 5, audit_blocked_events: 5, upstream_connections: 0 });
    expect(liveSandboxes()).toHaveLength(0);
  });

  it.skipIf(!bwrap.ok)('bwrap: a blocked name is NXDOMAIN though the zone holds it, audited once each', async () => {
    const result = await runCell('bwrap', 'dns', 3);
    expect(result.samples.guest_refusal_ms).toHaveLength(3);
    expect(result.facts).toMatchObject({ attempts: 4, outcomes: { NXDOMAIN: 4 }, audit_events: 4, audit_events_equal_attempts: true });
  });

  it.skipIf(!bwrap.ok)('bwrap: a blocked exec is rejected on the host, audited once each, and leaves no trace', async () => {
    const result = await runCell('bwrap', 'exec', 3);
    expect(result.samples.host_refusal_ms).toHaveLength(3);
    expect(result.facts).toMatchObject({ attempts: 4, outcomes: { ExecBlockedError: 4 }, audit_events: 4, blocked_command_left_trace: false });
  });

  it.skipIf(!bwrap.ok)('bwrap: a fronted request and an aliased address are refused 403 as the names they are, audited once each, nothing upstream', async () => {
    const fronted = await runCell('bwrap', 'fronted', 3);
    expect(fronted.samples.guest_refusal_ms).toHaveLength(3);
    expect(fronted.facts).toMatchObject({ attempts: 4, outcomes: { 'HTTP/1.1 403 Forbidden': 4 }, audit_events: 4, audit_blocked_events: 4, upstream_connections: 0 });
    const aliased = await runCell('bwrap', 'aliased', 3);
    expect(aliased.facts).toMatchObject({ attempts: 4, outcomes: { 'HTTP/1.1 403 Forbidden': 4 }, audit_events: 4, audit_blocked_events: 4, upstream_connections: 0 });
    expect(liveSandboxes()).toHaveLength(0);
  });

  it.skipIf(!gvisor.ok)('gvisor: a blocked CONNECT is refused 403 and a blocked name is NXDOMAIN, audited once each, nothing upstream', async () => {
    const https = await runCell('gvisor', 'https', 3);
    expect(https.facts).toMatchObject({ backend: 'gvisor', attempts: 4, outcomes: { 403: 4 }, audit_events: 4, audit_blocked_events: 4, upstream_connections: 0 });
    const dns = await runCell('gvisor', 'dns', 3);
    expect(dns.facts).toMatchObject({ backend: 'gvisor', attempts: 4, outcomes: { NXDOMAIN: 4 }, audit_events: 4, audit_events_equal_attempts: true });
    expect(liveSandboxes()).toHaveLength(0);
  });

  it.skipIf(!qemu.ok)('qemu: a blocked name asked over the guest network is NXDOMAIN, audited once each', async () => {
    const result = await runCell('qemu', 'dns', 2);
    expect(result.samples.guest_refusal_ms).toHaveLength(2);
    expect(result.facts).toMatchObject({ backend: 'qemu', attempts: 3, outcomes: { NXDOMAIN: 3 }, audit_events: 3, upstream_connections: 0 });
    expect(liveSandboxes()).toHaveLength(0);
  }, 180_000);
});
