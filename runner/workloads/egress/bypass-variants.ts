/**
 * The egress-bypass battery's attacks, generated (fast-check, seeded: a run
 * names its seed and can be replayed), one class per way around the policy
 * that a review found:
 *
 * - `alias`: the blocked loopback addresses spelt otherwise — every IPv4 form
 *   inet_aton reads (1 to 4 parts, each decimal, octal or hex, any case,
 *   leading zeros, percent-encoded digits, a trailing dot) and every IPv6 form
 *   of ::1 and of 127.0.0.1 mapped (zero runs compressed anywhere, leading
 *   zeros, upper case, embedded dotted quads).
 * - `fronting`: a request for the allowed name whose Host header names
 *   another virtual host of the same front end — replaced, doubled in either
 *   order, odd case, odd whitespace, with the port, or an absolute URI.
 * - `exfil`: names under a domain the `dns.query` rules block, under an http
 *   rule that allows them (the proxy must look names up through the policy).
 * - `fail-open`: a request for a path a header-checking block rule guards,
 *   with the header missing, empty, in another case or doubled.
 * - `host-socket` (from inside a sandbox only): host unix sockets by path,
 *   spelt with `//`, `/./` and `/../`, and by abstract name.
 *
 * Every variant is data (a host, a header block, a path); how it is sent
 * (plain, CONNECT, intercepted) is bypass.ts's.
 */
import fc from 'fast-check';

export const BYPASS_CLASSES = ['alias', 'fronting', 'exfil', 'fail-open', 'host-socket'] as const;
export type BypassClass = (typeof BYPASS_CLASSES)[number];

/** The names the battery's zone and policy use. */
export const FRONT_NAME = 'allowed.test';
export const HIDDEN_NAME = 'secret.test';
export const EXFIL_DOMAIN = 'evil.test';
export const INTERNAL_PATH = '/internal';
export const API_KEY = 'good';

export interface AliasVariant {
  /** The host as written in the request line (IPv6 in brackets). */
  host: string;
  /** The address it means: 127.0.0.1 or ::1. */
  means: '127.0.0.1' | '::1';
}

export interface FrontingVariant {
  /** Header lines naming the host (each without CRLF), in order; may be empty (no Host header at all). */
  hostLines: string[];
  /** The request target of the request line: origin-form, or an absolute URI naming the hidden host. */
  target: 'origin' | 'absolute-hidden';
}

export interface HeaderVariant {
  /** Header lines carrying (or not) the API key. */
  keyLines: string[];
}

/** One number as inet_aton reads it: decimal, octal (leading 0) or hex (0x, any case), with leading zeros. */
function spell(value: number): fc.Arbitrary<string> {
  return fc.oneof(
    // decimal takes no leading zero: one would make it octal
    fc.constant(String(value)),
    fc.integer({ min: 1, max: 3 }).map((zeros) => `${'0'.repeat(zeros)}${value.toString(8)}`),
    fc.tuple(fc.constantFrom('0x', '0X'), fc.integer({ min: 0, max: 3 }), fc.boolean()).map(([prefix, zeros, upper]) => {
      const hex = `${'0'.repeat(zeros)}${value.toString(16)}`;
      return `${prefix}${upper ? hex.toUpperCase() : hex}`;
    }),
  );
}

/** 127.0.0.1 as 1 to 4 parts, the last part holding the remaining bytes. */
const ipv4Loopback: fc.Arbitrary<string> = fc.integer({ min: 1, max: 4 }).chain((parts) => {
  const bytes = [127, 0, 0, 1];
  const leading = bytes.slice(0, parts - 1);
  const rest = bytes.slice(parts - 1).reduce((value, b) => value * 256 + b, 0);
  return fc.tuple(...[...leading, rest].map(spell)).map((spelt) => spelt.join('.'));
});

/** Some digits percent-encoded (the URL host parser decodes them), and sometimes a trailing dot. */
function disguise(host: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(host, fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), fc.boolean()).map(([text, encode, dot]) => {
    const chars = [...text].map((c, i) => (/[0-9]/.test(c) && encode[i % 16] ? `%${c.charCodeAt(0).toString(16)}` : c));
    return `${chars.join('')}${dot ? '.' : ''}`;
  });
}

/** Eight 16-bit groups written with leading zeros, case and one zero run compressed as the generator likes. */
function ipv6Spelling(groups: number[], tailDotted?: string): fc.Arbitrary<string> {
  const count = tailDotted ? 6 : 8;
  return fc
    .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: count, maxLength: count }), fc.boolean(), fc.integer({ min: -1, max: count - 1 }), fc.integer({ min: 1, max: count }))
    .map(([zeros, upper, compressAt, compressLength]) => {
      const written = groups.slice(0, count).map((g, i) => {
        const digits = g.toString(16);
        // a group holds at most four hex digits: leading zeros only up to that
        const hex = `${'0'.repeat(Math.min(zeros[i]!, 4 - digits.length))}${digits}`;
        return upper ? hex.toUpperCase() : hex;
      });
      let text: string;
      // Compress a run of zero groups starting at compressAt (only zeros may be compressed).
      const end = Math.min(count, compressAt + compressLength);
      if (compressAt >= 0 && groups.slice(compressAt, end).every((g) => g === 0)) {
        text = `${written.slice(0, compressAt).join(':')}::${written.slice(end).join(':')}`;
      } else {
        text = written.join(':');
      }
      if (tailDotted) text = text.endsWith('::') ? `${text}${tailDotted}` : `${text}:${tailDotted}`;
      return `[${text}]`;
    });
}

const aliasArbitrary: fc.Arbitrary<AliasVariant> = fc.oneof(
  disguise(ipv4Loopback).map((host) => ({ host, means: '127.0.0.1' as const })),
  ipv6Spelling([0, 0, 0, 0, 0, 0, 0, 1]).map((host) => ({ host, means: '::1' as const })),
  ipv6Spelling([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]).map((host) => ({ host, means: '127.0.0.1' as const })),
  fc.tuple(ipv6Spelling([0, 0, 0, 0, 0, 0xffff], '127.0.0.1')).map(([host]) => ({ host, means: '127.0.0.1' as const })),
  fc.mixedCase(fc.constant('localhost')).chain((name) => fc.boolean().map((dot) => ({ host: `${name}${dot ? '.' : ''}`, means: '127.0.0.1' as const }))),
);

/** Header-name case a client may send. */
const hostName = fc.mixedCase(fc.constant('host'));
const space = fc.constantFrom(' ', '', '  ', '\t', ' \t');

function frontingArbitrary(port: number): fc.Arbitrary<FrontingVariant> {
  const hidden = fc.tuple(hostName, space, fc.mixedCase(fc.constant(HIDDEN_NAME)), fc.boolean(), space).map(
    ([name, before, value, withPort, after]) => `${name}:${before}${value}${withPort ? `:${port}` : ''}${after}`,
  );
  const front = fc.tuple(hostName, space).map(([name, before]) => `${name}:${before}${FRONT_NAME}:${port}`);
  return fc.oneof(
    hidden.map((line) => ({ hostLines: [line], target: 'origin' as const })),
    fc.tuple(front, hidden).map(([a, b]) => ({ hostLines: [a, b], target: 'origin' as const })),
    fc.tuple(hidden, front).map(([a, b]) => ({ hostLines: [a, b], target: 'origin' as const })),
    fc.tuple(hidden, hidden).map(([a, b]) => ({ hostLines: [a, b], target: 'origin' as const })),
    front.map((line) => ({ hostLines: [line], target: 'absolute-hidden' as const })),
    fc.constant<FrontingVariant>({ hostLines: [], target: 'absolute-hidden' }),
  );
}

/** A DNS label of letters, digits and hyphens, as an exfiltrating client would pack data into. */
const label = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?$/);

const exfilArbitrary: fc.Arbitrary<string> = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.mixedCase(fc.constant(EXFIL_DOMAIN)), fc.boolean())
  .map(([labels, domain, dot]) => `${labels.join('.')}.${domain}${dot ? '.' : ''}`);

const keyName = fc.mixedCase(fc.constant('x-api-key'));
const failOpenArbitrary: fc.Arbitrary<HeaderVariant> = fc.oneof(
  fc.constant<HeaderVariant>({ keyLines: [] }),
  keyName.map((name) => ({ keyLines: [`${name}:`] })),
  fc.tuple(keyName, fc.constantFrom('bad', 'GOOD', 'go od', 'good2', '"good"', '')).map(([name, value]) => ({ keyLines: [`${name}: ${value}`] })),
  fc.tuple(keyName, keyName, fc.constantFrom('bad', '')).map(([a, b, value]) => ({ keyLines: [`${a}: ${API_KEY}`, `${b}: ${value}`] })),
  fc.tuple(keyName, keyName, fc.constantFrom('bad', '')).map(([a, b, value]) => ({ keyLines: [`${a}: ${value}`, `${b}: ${API_KEY}`] })),
  fc.mixedCase(fc.constant('x-api-keys')).map((name) => ({ keyLines: [`${name}: ${API_KEY}`] })),
);

/** A host path spelt with `//`, `/./` or `/../<last>/` segments: the same file to the kernel. */
export function pathSpellings(path: string): fc.Arbitrary<string> {
  const parts = path.split('/').filter(Boolean);
  return fc.array(fc.constantFrom('', '/', '/.', '/..'), { minLength: parts.length, maxLength: parts.length }).map((extras) =>
    // "/a/.." before a directory's own name; never after the socket itself (that would be ENOTDIR, not a spelling)
    parts.map((part, i) => (extras[i] === '/..' ? (i < parts.length - 1 ? `/${part}/..` : '') : (extras[i] ?? '')) + `/${part}`).join(''),
  );
}

/** `n` distinct values of `arbitrary` from `seed` (fewer when the space is smaller). */
function distinct<T>(arbitrary: fc.Arbitrary<T>, n: number, seed: number, key: (value: T) => string): T[] {
  const seen = new Map<string, T>();
  for (let round = 0; seen.size < n && round < 20; round++) {
    for (const value of fc.sample(arbitrary, { seed: seed + round, numRuns: n * 2 })) {
      if (seen.size === n) break;
      seen.set(key(value), value);
    }
  }
  return [...seen.values()];
}

export function aliasVariants(n: number, seed: number): AliasVariant[] {
  return distinct(aliasArbitrary, n, seed, (v) => v.host);
}

export function frontingVariants(n: number, seed: number, port: number): FrontingVariant[] {
  return distinct(frontingArbitrary(port), n, seed, (v) => JSON.stringify(v));
}

export function exfilVariants(n: number, seed: number): string[] {
  return distinct(exfilArbitrary, n, seed, (v) => v);
}

export function failOpenVariants(n: number, seed: number): HeaderVariant[] {
  return distinct(failOpenArbitrary, n, seed, (v) => JSON.stringify(v));
}

export function socketPathVariants(paths: string[], n: number, seed: number): string[] {
  return distinct(fc.oneof(...paths.map(pathSpellings)), n, seed, (v) => v);
}
