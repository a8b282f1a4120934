/**
 * An `http.request` event as the policy engine sees it. For intercepted and
 * plain requests `path` is the origin-form target (`/a?b=c`); for a CONNECT in
 * tunnel mode the proxy cannot see inside, so method is `CONNECT` and path is ''.
 */
export interface HttpRequestEvent {
  /** The host the proxy connects to (lower-case; IPv6 without brackets). */
  host: string;
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
