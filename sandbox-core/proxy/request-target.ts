import { isIP } from 'node:net';

/** Where a proxied request goes: a canonical host (see canonicalHost: lower-case, IPv6 without brackets) and port. */
export interface Target {
  host: string;
  port: number;
}

/** A forward-proxy request target that could not be used; the proxy answers 400 with `message`. */
export class BadTargetError extends Error {
  override name = 'BadTargetError';
}

/** RFC 1123 host name: labels of letters, digits and inner hyphens (and underscores, as real names have), at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
/** What a host in a request line may be spelt with before parsing: no userinfo, path, space or non-ASCII byte. */
const HOST_CHARACTERS = /^[A-Za-z0-9._~%:[\]-]+$/;

/**
 * The one canonical spelling of a host, so that what the policy judges, the
 * audit records and the proxy connects to are the same thing: the WHATWG
 * URL host parser (what browsers use) turns every IPv4 spelling (`127.1`,
 * `2130706433`, `0x7f000001`, `0177.0.0.1`, percent-encoded digits) into
 * dotted decimal and every IPv6 spelling into its compressed form, lower-cases
 * names and strips one trailing dot; an IPv4-mapped IPv6 address becomes
 * the IPv4 address it maps. A name whose last label is a number must be an
 * IPv4 address (so no all-digit "name" ever reaches a resolver that would
 * read it as one). Refused: the unspecified addresses (0.0.0.0/8 and ::),
 * which a connect() turns into this host, and IPv4-compatible IPv6 (::a.b.c.d).
 */
export function canonicalHost(raw: string): string {
  const quoted = JSON.stringify(raw.slice(0, 80));
  if (!HOST_CHARACTERS.test(raw)) throw new BadTargetError(`bad host ${quoted}: expected a DNS name or an IP address`);
  let parsed: string;
  try {
    parsed = new URL(`http://${raw}/`).hostname;
  } catch {
    throw new BadTargetError(`bad host ${quoted}: expected a DNS name or an IP address`);
  }
  if (parsed.startsWith('[')) {
    const v6 = parsed.slice(1, -1);
    if (!raw.startsWith('[')) throw new BadTargetError(`bad host ${quoted}: expected a DNS name or an IP address`);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    if (mapped) return checkIpv4(ipv4Of(parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)), raw);
    if (v6 === '::') throw new BadTargetError(`bad host ${quoted}: the unspecified address is not a destination`);
    if (/^::[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(v6)) throw new BadTargetError(`bad host ${quoted}: IPv4-compatible IPv6 addresses are deprecated and not a destination`);
    return v6;
  }
  if (isIP(parsed) === 4) return checkIpv4(parsed, raw);
  const name = parsed.endsWith('.') ? parsed.slice(0, -1) : parsed;
  if (HOST_NAME.test(name)) return name;
  throw new BadTargetError(`bad host ${quoted}: expected a DNS name or an IP address`);
}

function ipv4Of(high: number, low: number): string {
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

function checkIpv4(address: string, raw: string): string {
  if (address.startsWith('0.')) throw new BadTargetError(`bad host ${JSON.stringify(raw.slice(0, 80))}: 0.0.0.0/8 is not a destination (it means this host)`);
  return address;
}

/** `host` as it goes in a Host header or authority: IPv6 in brackets, the port unless it is the scheme's default. */
export function authorityOf(target: Target, defaultPort: number): string {
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
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
  return { host: canonicalHost(match[1] ?? ''), port: validPort(match[2] ?? '', 'CONNECT target') };
}

/** An absolute-form `http://host[:port]/path?query` request target; also returns the origin-form path. */
export function parseAbsoluteHttpTarget(url: string): Target & { path: string } {
  const match = /^http:\/\/(\[[^\]/]*\]|[^/:?#[\]]*)(?::([^/?#]*))?([/?][^#]*)?$/i.exec(url);
  if (!match) {
    throw new BadTargetError(`bad request target ${JSON.stringify(url.slice(0, 80))}: a forward proxy expects absolute http://host/path (use CONNECT for https)`);
  }
  const path = match[3] ?? '/';
  return {
    host: canonicalHost(match[1] ?? ''),
    port: match[2] === undefined ? 80 : validPort(match[2], 'request target'),
    path: path.startsWith('/') ? path : `/${path}`,
  };
}
