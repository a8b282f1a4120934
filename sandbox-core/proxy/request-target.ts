import { isIP } from 'node:net';

/** Where a proxied request goes: a validated host (lower-case, IPv6 without brackets) and port. */
export interface Target {
  host: string;
  port: number;
}

/** A forward-proxy request target that could not be used; the proxy answers 400 with `message`. */
export class BadTargetError extends Error {
  override name = 'BadTargetError';
}

/** RFC 1123 host name: labels of letters, digits and inner hyphens, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** Check a host as it appears in a URL or authority; IPv6 may come bracketed. */
function validHost(raw: string): string {
  if (raw.startsWith('[')) {
    const inside = raw.endsWith(']') ? raw.slice(1, -1) : '';
    if (isIP(inside) === 6) return inside.toLowerCase();
    throw new BadTargetError(`bad host ${JSON.stringify(raw.slice(0, 80))}: brackets hold an IPv6 address only`);
  }
  const host = raw;
  if (isIP(host) === 4) return host;
  const lower = host.toLowerCase();
  if (HOST_NAME.test(lower)) return lower.replace(/\.$/, '');
  throw new BadTargetError(`bad host ${JSON.stringify(raw.slice(0, 80))}: expected a DNS name or an IP address`);
}

function validPort(raw: string, where: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new BadTargetError(`bad port ${JSON.stringify(raw.slice(0, 20))} in ${where}: expected 1-65535`);
  }
  return port;
}

/** `CONNECT host:port` authority (RFC 9110 §9.3.6): the port is required. */
export function parseConnectAuthority(authority: string): Target {
  const match = /^(\[[^\]]*\]|[^:[\]]*):([^:]*)$/.exec(authority);
  if (!match) throw new BadTargetError(`bad CONNECT target ${JSON.stringify(authority.slice(0, 80))}: expected host:port`);
  return { host: validHost(match[1] ?? ''), port: validPort(match[2] ?? '', 'CONNECT target') };
}

/** An absolute-form `http://host[:port]/path?query` request target; also returns the origin-form path. */
export function parseAbsoluteHttpTarget(url: string): Target & { path: string } {
  const match = /^http:\/\/(\[[^\]/]*\]|[^/:?#[\]]*)(?::([^/?#]*))?([/?][^#]*)?$/i.exec(url);
  if (!match) {
    throw new BadTargetError(`bad request target ${JSON.stringify(url.slice(0, 80))}: a forward proxy expects absolute http://host/path (use CONNECT for https)`);
  }
  const path = match[3] ?? '/';
  return {
    host: validHost(match[1] ?? ''),
    port: match[2] === undefined ? 80 : validPort(match[2], 'request target'),
    path: path.startsWith('/') ? path : `/${path}`,
  };
}
