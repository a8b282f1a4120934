/**
 * `sandbox.enforcement`: from inside a sandbox with egress, an attempt the
 * policy blocks, timed, with proof of what did not happen. Per cell one
 * sandbox (any backend with egress) behind the real egress path: the policy from YAML,
 * the audit database, our proxy (tunnel mode) and our resolver, and a
 * loopback HTTPS upstream that counts its TCP connections.
 *
 * - probe `https`: `guest-bench probe connect-proxy` sends the CONNECT an
 *   HTTPS client starts with, for the real upstream's address; the proxy
 *   answers 403. Timed inside the sandbox (request sent → refusal read).
 * - probe `dns`: `guest-bench probe dns` asks the resolver (DNS over TCP)
 *   for a name that is in the zone but blocked; the answer is NXDOMAIN.
 *   Timed inside (query sent → answer read).
 * - probe `exec`: the host asks the agent to run a command the policy
 *   blocks; ExecBlockedError, nothing starts. Exec rules are judged on the
 *   host before the request reaches the agent, so this one is timed on the
 *   host (exec() called → rejection).
 * - probe `fronted`: a plain request for a blocked name whose Host header
 *   names an allowed one; `aliased`: a plain request for the blocked address
 *   spelt as one number (2130706433 = 127.0.0.1). Both are bytes sent as they
 *   are by `guest-bench probe raw`; the proxy judges the canonical target
 *   and answers 403. Timed inside (connect started → the proxy closed).
 *
 * Proof, checked before the cell is reported (a failed check fails the
 * cell): every attempt was refused; the audit database holds exactly one
 * event per attempt of the probe's kind; the upstream accepted no connection;
 * for exec, the blocked command left no trace.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestBenchPath } from '../../../guest-bench/build.ts';
import { GuestBenchProbe } from '../../../guest-bench/schema.ts';
import { EGRESS_ADDRESSES, type EgressBackend } from '../../../sandbox-core/backends/egress-env.ts';
import { ExecBlockedError } from '../../../sandbox-core/backends/agent-sandbox.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { startEgress, type Egress } from '../../../sandbox-core/egress/index.ts';
import { z } from 'zod';
import { sampleLoop } from '../../sampling/loop.ts';
import { startLoopbackUpstream, type LoopbackUpstream } from '../../loopback/upstream.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { teardown } from './teardown.ts';
import { backendSkipReason, backendUsesKvm, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';

const PROBES = ['https', 'dns', 'exec', 'fronted', 'aliased'] as const;
type Probe = (typeof PROBES)[number];
const EGRESS_BACKENDS = Object.keys(EGRESS_ADDRESSES) as EgressBackend[];

/** In the zone, so NXDOMAIN can only be the policy's doing. */
const BLOCKED_NAME = 'blocked.test';
/** The blocked exec: would leave this file in the workspace if it ever ran. */
const TRACE_FILE = 'enforcement-ran';
const BLOCKED_EXEC = ['touch', TRACE_FILE];
const AUDIT_KIND: Record<Probe, 'http' | 'dns' | 'exec'> = { https: 'http', dns: 'dns', exec: 'exec', fronted: 'http', aliased: 'http' };
/** In the zone at the upstream's address, and blocked by name: a request for it that claims another host in its Host header. */
const FRONTED_NAME = 'fronted.test';
/** 127.0.0.1 as one 32-bit number: the same address the blocked-upstream rule names. */
const ALIASED_HOST = '2130706433';

/** Rule ids the artifact's facts and the audit rows name. */
function policyYaml(): string {
  return `default: allow
rules:
  - id: block-upstream
    when: event == "http.request" && request.host == "127.0.0.1"
    decision: block
  - id: block-fronted
    when: event == "http.request" && request.host == "${FRONTED_NAME}"
    decision: block
  - id: block-name
    when: event == "dns.query" && query.name == "${BLOCKED_NAME}"
    decision: block
  - id: block-touch
    when: event == "process.exec" && process.argv[0] == "touch"
    decision: block
`;
}

export const enforcementWorkload: Workload = {
  name: 'sandbox.enforcement',
  description: 'a blocked HTTPS request, DNS query or exec from inside a sandbox with egress: refusal latency, with audit and upstream proof (params.backend, params.probe)',
  paramsSchema: sandboxParams().extend({
    backend: z.enum(EGRESS_BACKENDS, { error: `a backend with egress (${EGRESS_BACKENDS.join(', ')})` }),
    probe: z.enum(PROBES),
  }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runEnforcement,
};

async function runEnforcement(ctx: CellContext): Promise<WorkloadResult> {
  const probe = ctx.params.probe as Probe;
  const backend = ctx.params.backend as EgressBackend;
  const dir = await mkdtemp(join(tmpdir(), 'rigor-enforcement-'));
  await chmod(dir, 0o711); // sandboxes run as unprivileged uids: they must reach the sockets in here
  let upstream: LoopbackUpstream | undefined;
  let egress: Egress | undefined;
  let sandbox: Sandbox | undefined;
  try {
    upstream = await startLoopbackUpstream();
    await writeFile(join(dir, 'policy.yaml'), policyYaml());
    const proxySocket = join(dir, 'proxy.sock');
    const dnsSocket = join(dir, 'dns.sock');
    egress = await startEgress({
      policyPath: join(dir, 'policy.yaml'),
      auditPath: join(dir, 'audit.sqlite'),
      zone: new Map([
        [BLOCKED_NAME, ['127.0.0.1']],
        [FRONTED_NAME, ['127.0.0.1']],
      ]),
      mode: 'tunnel',
      proxySocket,
      dnsSocket,
      sandbox: ctx.cellId,
    });
    const running = egress;
    sandbox = await (await preparedBackend(ctx)).create(
      {
        ...specOf(ctx.params),
        // a connection refused by qemu's relay cap is audited like any refused attempt
        egress: { proxySocket, dnsSocket, onRelayRefused: (record) => running.audit.record({ ...record, sandbox: ctx.cellId }) },
        execPolicy: (argv, cwd) => running.deciders.exec(argv, cwd),
      },
      { signal: ctx.signal },
    );
    const box = sandbox;
    if (probe !== 'exec') await box.writeFile('guest-bench', await readFile(await guestBenchPath()), 0o755);
    // fronted: the blocked name in the request line, an allowed-looking Host header; aliased: the blocked address spelt as one number
    const rawRequests: Partial<Record<Probe, string>> = {
      fronted: `GET http://${FRONTED_NAME}:${upstream.port}/ HTTP/1.1\r\nHost: allowed.test:${upstream.port}\r\nConnection: close\r\n\r\n`,
      aliased: `GET http://${ALIASED_HOST}:${upstream.port}/ HTTP/1.1\r\nHost: ${ALIASED_HOST}:${upstream.port}\r\nConnection: close\r\n\r\n`,
    };
    const raw = rawRequests[probe];
    if (raw !== undefined) await box.writeFile(`${probe}.req`, raw);
    const addresses = EGRESS_ADDRESSES[backend];
    const target = `127.0.0.1:${upstream.port}`;
    const outcomes = new Map<string, number>();
    let attempts = 0;

    /** One blocked attempt from inside: the probe's own sample, after checking it was refused. */
    const guestProbe = async (argv: string[], refused: (probe: GuestBenchProbe) => string): Promise<number> => {
      attempts += 1;
      const result = await box.exec({ argv, timeoutMs: ctx.sampling.timeout_s * 1000 });
      if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr.toString('utf8').slice(-500)}`);
      const report = GuestBenchProbe.parse(JSON.parse(result.stdout.toString('utf8')));
      const outcome = refused(report);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      const [ms] = 'samples_ms' in report ? report.samples_ms : [];
      if (ms === undefined) throw new Error(`${argv.join(' ')} answered without a sample`);
      return ms;
    };

    const once = async (): Promise<Record<string, number>> => {
      switch (probe) {
        case 'https': {
          const ms = await guestProbe(['./guest-bench', 'probe', 'connect-proxy', target, '--proxy', `${addresses.proxy.host}:${addresses.proxy.port}`], (report) => {
            const status = report.probe === 'connect-proxy' ? String(report.status) : `a ${report.probe} report`;
            if (status !== '403') throw new Error(`CONNECT ${target} through the proxy answered ${status}, expected 403 (blocked by rule block-upstream)`);
            return status;
          });
          return { guest_refusal_ms: ms };
        }
        case 'dns': {
          const ms = await guestProbe(['./guest-bench', 'probe', 'dns', BLOCKED_NAME, '--server', `${addresses.dns.host}:${addresses.dns.port}`], (report) => {
            const rcode = report.probe === 'dns' ? String(report.rcode) : `a ${report.probe} report`;
            if (rcode !== 'NXDOMAIN') throw new Error(`${BLOCKED_NAME} answered ${rcode}, expected NXDOMAIN (blocked by rule block-name)`);
            return rcode;
          });
          return { guest_refusal_ms: ms };
        }
        case 'fronted':
        case 'aliased': {
          const rule = probe === 'fronted' ? 'block-fronted' : 'block-upstream';
          const argv = ['./guest-bench', 'probe', 'raw', `${addresses.proxy.host}:${addresses.proxy.port}`, `${probe}.req`];
          attempts += 1;
          const result = await box.exec({ argv, timeoutMs: ctx.sampling.timeout_s * 1000 });
          if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr.toString('utf8').slice(-500)}`);
          const report = GuestBenchProbe.parse(JSON.parse(result.stdout.toString('utf8')));
          const exchange = report.probe === 'raw' ? report.exchanges[0] : undefined;
          const status = exchange?.status_lines[0] ?? `no status line (${exchange?.error ?? 'no exchange'})`;
          if (!status.startsWith('HTTP/1.1 403')) throw new Error(`the ${probe} request through the proxy answered ${JSON.stringify(status)}, expected 403 (blocked by rule ${rule})`);
          outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
          return { guest_refusal_ms: exchange!.ms };
        }
        case 'exec': {
          attempts += 1;
          const start = performance.now();
          try {
            await box.exec({ argv: BLOCKED_EXEC });
          } catch (error) {
            const ms = performance.now() - start;
            if (!(error instanceof ExecBlockedError)) throw error;
            outcomes.set('ExecBlockedError', (outcomes.get('ExecBlockedError') ?? 0) + 1);
            return { host_refusal_ms: ms };
          }
          throw new Error(`${BLOCKED_EXEC.join(' ')} ran: the exec policy did not block it (rule block-touch)`);
        }
      }
    };

    const result = await sampleLoop(ctx, failuresAsWorkloadErrors(once));
    const proof = await proveEnforcement(running, upstream, probe, attempts, box);
    const facts = {
      ...sandboxFacts(box),
      probe,
      proxy_mode: 'tunnel',
      attempts,
      outcomes: Object.fromEntries(outcomes),
      ...proof.facts,
    };
    if (proof.problems.length > 0) throw new WorkloadError(`enforcement not proven: ${proof.problems.join('; ')}`, { ...result, facts });
    return { ...result, facts };
  } finally {
    await teardown([() => sandbox?.destroy(), () => egress?.close(), () => upstream?.close(), () => rm(dir, { recursive: true, force: true })]);
  }
}

/** What the audit database and the upstream saw; problems when that is not one event per attempt and nothing upstream. */
async function proveEnforcement(
  egress: Egress,
  upstream: LoopbackUpstream,
  probe: Probe,
  attempts: number,
  sandbox: Sandbox,
): Promise<{ facts: Record<string, unknown>; problems: string[] }> {
  const kind = AUDIT_KIND[probe];
  const events = egress.audit.count({ kind });
  const blockedEvents = egress.audit.count({ kind, decision: 'block' });
  const problems: string[] = [];
  if (events !== attempts) problems.push(`the audit database holds ${events} ${kind} events for ${attempts} attempts`);
  if (blockedEvents !== events) problems.push(`${events - blockedEvents} of the ${kind} events were not blocks`);
  if (upstream.connections() !== 0) problems.push(`the upstream accepted ${upstream.connections()} connections`);
  let traceLeft: boolean | undefined;
  if (probe === 'exec') {
    // Read by the host through the agent's file call (not an exec, which the policy would judge and audit).
    traceLeft = await sandbox.readFile(TRACE_FILE).then(
      () => true,
      (error: Error) => {
        // Only "no such file" proves the command never ran; any other failure proves nothing.
        if (/No such file|ENOENT/.test(error.message)) return false;
        throw error;
      },
    );
    if (traceLeft) problems.push(`the blocked command left ${TRACE_FILE} in the workspace`);
  }
  return {
    facts: {
      audit_events: events,
      audit_blocked_events: blockedEvents,
      audit_events_equal_attempts: events === attempts,
      upstream_connections: upstream.connections(),
      upstream_requests: upstream.hits(),
      ...(traceLeft === undefined ? {} : { blocked_command_left_trace: traceLeft }),
    },
    problems,
  };
}
