/**
 * An `http.request` event as the policy engine sees it. For intercepted and
 * plain requests `path` is the origin-form target (`/a?b=c`); for a CONNECT in
 * tunnel mode the proxy cannot see inside, so method is `CONNECT` and path is ''.
 */
export interface HttpRequestEvent {
  /** The canonical host the request names (request-target.ts canonicalHost: lower-case, IPv6 without brackets). */
  host: string;
  /** The address the proxy will connect to: the host itself when it is one, else what the proxy's resolver answered for it. */
  address: string;
  port: number;
  method: string;
  path: string;
  /** Request headers, names lower-case, as node:http presents them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the policy engine returns: `log` lets the request through and marks it. */
export interface Decision {
  decision: 'allow' | 'block' | 'log';
  ruleId: string | null;
}

/** The hook every request passes before it goes upstream. */
export type Decide = (request: HttpRequestEvent) => Decision | Promise<Decision>;

/** Without a policy engine everything goes through, unmarked. */
export const allowAll: Decide = () => ({ decision: 'allow', ruleId: null });

/** What the proxy's resolver says about a name: the addresses to connect to, or why there are none. */
export type Resolved =
  | { addresses: string[] }
  /** `blocked`: the `dns.query` policy refused the name (403); `unknown`: no address for it (502). */
  | { refused: 'blocked' | 'unknown'; ruleId: string | null; reason: string };

/** How the proxy turns a name into addresses; IP literals never reach it. */
export type ResolveName = (name: string) => Resolved | Promise<Resolved>;
