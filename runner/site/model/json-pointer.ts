/** JSON pointers (RFC 6901): how every number on the site names its place in an artifact. */

/** Tokens → "/cells/3/metrics/total_ms/summary/median" (~ and / escaped as the RFC says). */
export function pointerOf(...tokens: (string | number)[]): string {
  return tokens.map((token) => `/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * A pointer as a URL fragment and HTML id (RFC 6901 §6): characters a fragment
 * may not hold are percent-encoded, so the id contains no whitespace and a
 * browser matches `#<fragment>` to it verbatim.
 */
export function fragmentOf(pointer: string): string {
  return pointer.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]/g, (char) =>
    [...new TextEncoder().encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
