/**
 * The events a policy judges and the CEL variables each one binds. A rule sees
 * `event` (the event's type name) and the one variable of that type:
 *
 * | event          | variable  | fields                                                               |
 * |----------------|-----------|----------------------------------------------------------------------|
 * | `http.request` | `request` | `host`, `address`, `method`, `path` (strings), `headers` (map, lower-case names) |
 * | `dns.query`    | `query`   | `name`, `type` (strings, e.g. `"AAAA"`)                              |
 * | `process.exec` | `process` | `argv` (list of strings), `cwd` (string)                             |
 *
 * e.g. `event == "http.request" && request.host.endsWith(".example.com") && request.method == "POST"`.
 */
import { Environment } from '@marcbachmann/cel-js';

export interface HttpRequestEvent {
  event: 'http.request';
  /** The canonical host the request names: a lower-case name, dotted-decimal IPv4 or compressed IPv6. */
  host: string;
  /** The address the proxy connects to: `host` when it is one, else what the sandbox resolver answered. */
  address: string;
  method: string;
  path: string;
  /** Header names in lower case; a repeated header joined with ", ". */
  headers: Record<string, string>;
}

export interface DnsQueryEvent {
  event: 'dns.query';
  name: string;
  /** The record type asked for: `"A"`, `"AAAA"`, `"TXT"`, ... */
  type: string;
}

export interface ProcessExecEvent {
  event: 'process.exec';
  argv: string[];
  cwd: string;
}

export type PolicyEvent = HttpRequestEvent | DnsQueryEvent | ProcessExecEvent;
export type EventType = PolicyEvent['event'];

export const eventTypes: readonly EventType[] = ['http.request', 'dns.query', 'process.exec'];

/** The CEL variable that carries each event type's fields. */
export const variableOf: Readonly<Record<EventType, string>> = {
  'http.request': 'request',
  'dns.query': 'query',
  'process.exec': 'process',
};

/** One environment for every rule, so a typo in a field name is a type error at load. */
export const policyEnvironment = new Environment()
  .registerVariable('event', 'string')
  .registerVariable('request', { schema: { host: 'string', address: 'string', method: 'string', path: 'string', headers: 'map<string, string>' } })
  .registerVariable('query', { schema: { name: 'string', type: 'string' } })
  .registerVariable('process', { schema: { argv: 'list<string>', cwd: 'string' } });

/** The evaluation context of one event: built once, shared by every rule it meets. */
export function contextOf(event: PolicyEvent): Record<string, unknown> {
  switch (event.event) {
    case 'http.request':
      return { event: event.event, request: { host: event.host, address: event.address, method: event.method, path: event.path, headers: event.headers } };
    case 'dns.query':
      return { event: event.event, query: { name: event.name, type: event.type } };
    case 'process.exec':
      return { event: event.event, process: { argv: event.argv, cwd: event.cwd } };
  }
}
