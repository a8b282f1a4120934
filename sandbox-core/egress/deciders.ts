/**
 * The policy engine wired to the three places a sandbox reaches out: the
 * proxy (`http.request`), the resolver (`dns.query`) and process starts
 * (`process.exec`). Each attempt is written to the audit log exactly once.
 */
import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import type { DnsDecide } from '../dns/resolve-query.ts';
import type { PolicyEngine, PolicyEvent, Verdict } from '../policy/index.ts';
import type { Decide, HttpRequestEvent } from '../proxy/decide.ts';

export interface PolicyDecidersOptions {
  /** Where http and exec decisions are written; dns is written by the resolver itself. Default: nowhere. */
  audit?: AuditLog;
  /** The sandbox written in each record; default null. */
  sandbox?: string | null;
}

export interface PolicyDeciders {
  /** The proxy's hook: evaluates and audits (kind `http`) before the proxy answers. */
  http: Decide;
  /** The resolver's hook: evaluates only, because the resolver audits every query itself. */
  dns: DnsDecide;
  /** Judges a process start and audits it (kind `exec`). */
  exec(argv: string[], cwd: string): Verdict;
}

/**
 * Builds the hooks. Like the resolver they fail closed: a record that cannot
 * be written throws, which the proxy answers 503 and an exec caller must take
 * as "do not start" — an attempt that cannot be audited never goes through.
 */
export function policyDeciders(engine: PolicyEngine, options: PolicyDecidersOptions = {}): PolicyDeciders {
  const sandbox = options.sandbox ?? null;

  const judge = (event: PolicyEvent, record: Pick<AuditRecord, 'kind' | 'subject' | 'detail'>): Verdict => {
    const verdict = engine.evaluate(event);
    options.audit?.record({ ...record, sandbox, decision: verdict.decision, ruleId: verdict.ruleId });
    return verdict;
  };

  return {
    http: (request: HttpRequestEvent) =>
      judge(
        { event: 'http.request', host: request.host, address: request.address, method: request.method, path: request.path, headers: policyHeaders(request.headers) },
        // What is sent: the canonical host (also the Host header upstream) and the address connected to.
        { kind: 'http', subject: `${request.host}${request.path}`, detail: { method: request.method, port: request.port, address: request.address } },
      ),
    dns: ({ name, type }) => engine.evaluate({ event: 'dns.query', name, type }),
    exec: (argv, cwd) => judge({ event: 'process.exec', argv, cwd }, { kind: 'exec', subject: argv.join(' '), detail: { argv, cwd } }),
  };
}

/** node:http headers as the policy sees them: a repeated header joined with ", ", absent ones left out. */
function policyHeaders(headers: HttpRequestEvent['headers']): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) joined[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return joined;
}
