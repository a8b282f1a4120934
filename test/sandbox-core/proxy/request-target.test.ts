import { describe, expect, it } from 'vitest';
import { BadTargetError, parseAbsoluteHttpTarget, parseConnectAuthority } from '../../../sandbox-core/proxy/request-target.ts';

describe('parseConnectAuthority', () => {
  it('reads host:port, lower-casing names and unbracketing IPv6', () => {
    expect(parseConnectAuthority('Example.COM:443')).toEqual({ host: 'example.com', port: 443 });
    expect(parseConnectAuthority('127.0.0.1:8443')).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(parseConnectAuthority('[::1]:443')).toEqual({ host: '::1', port: 443 });
  });

  it.each(['example.com', 'example.com:', 'example.com:0', 'example.com:70000', 'exa mple.com:443', 'a..b:443', '::1:443', '[nope]:443', ':443', 'x.com:44a'])(
    'rejects %j',
    (authority) => {
      expect(() => parseConnectAuthority(authority)).toThrow(BadTargetError);
    },
  );
});

describe('parseAbsoluteHttpTarget', () => {
  it('splits host, port (default 80) and origin-form path', () => {
    expect(parseAbsoluteHttpTarget('http://Example.com/a/b?c=d')).toEqual({ host: 'example.com', port: 80, path: '/a/b?c=d' });
    expect(parseAbsoluteHttpTarget('http://127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080, path: '/' });
    expect(parseAbsoluteHttpTarget('http://[::1]:81/?q')).toEqual({ host: '::1', port: 81, path: '/?q' });
    expect(parseAbsoluteHttpTarget('http://h.test?q=1')).toEqual({ host: 'h.test', port: 80, path: '/?q=1' });
  });

  it.each(['/relative', 'https://example.com/', 'http:///path', 'http://exa$mple.com/', 'http://user@host/', 'http://host:99999/', 'http://-bad-.com/'])(
    'rejects %j with a message a user can act on',
    (url) => {
      expect(() => parseAbsoluteHttpTarget(url)).toThrow(/bad (request target|host|port)/);
    },
  );
});
