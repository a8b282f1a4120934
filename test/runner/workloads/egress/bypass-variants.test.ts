/** The battery's generated attacks: many, distinct, reproducible from a seed, and each one what its class says. */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { aliasVariants, exfilVariants, failOpenVariants, frontingVariants, socketPathVariants } from '../../../../runner/workloads/egress/bypass-variants.ts';
import { canonicalHost } from '../../../../sandbox-core/proxy/request-target.ts';

describe('bypass variants', () => {
  it('spell only the loopback addresses, each differently, the same for the same seed', () => {
    const variants = aliasVariants(300, 11);
    expect(variants.length).toBeGreaterThan(150);
    expect(new Set(variants.map((v) => v.host)).size).toBe(variants.length);
    expect(aliasVariants(300, 11)).toEqual(variants);
    // What each spelling means, read the way the proxy reads hosts: every one is a loopback address (or localhost).
    for (const { host, means } of variants) {
      const canonical = canonicalHost(host);
      expect([means, 'localhost'], host).toContain(canonical);
    }
    // Many forms: decimal, octal and hex parts, fewer than four parts, IPv6 with and without compression.
    const hosts = variants.map((v) => v.host).join(' ');
    for (const shape of [/0x/i, /\[[^\]]*::/, /%3/, /\b0[0-7]+\b/]) expect(hosts).toMatch(shape);
    expect(variants.some((v) => isIP(v.host) === 0 && !v.host.startsWith('[') && !/localhost/i.test(v.host))).toBe(true);
  });

  it('front the allowed name with the hidden host in every header shape', () => {
    const variants = frontingVariants(200, 3, 8080);
    expect(variants.length).toBeGreaterThan(100);
    expect(variants.some((v) => v.hostLines.length === 2)).toBe(true);
    expect(variants.some((v) => v.target === 'absolute-hidden')).toBe(true);
    expect(variants.some((v) => v.hostLines.some((line) => /\t/.test(line)))).toBe(true);
  });

  it('put data in names under the blocked domain, and mangle the key a guarded path needs', () => {
    for (const name of exfilVariants(100, 5)) expect(name.toLowerCase().replace(/\.$/, '')).toMatch(/\.evil\.test$/);
    const keys = failOpenVariants(100, 5).map((v) => v.keyLines);
    expect(keys).toContainEqual([]);
    expect(keys.some((lines) => lines.length === 2)).toBe(true);
  });

  it('spell a socket path so that the kernel reads the same file', () => {
    const spellings = socketPathVariants(['/run/rigor/x.sock'], 30, 2);
    expect(spellings.length).toBeGreaterThan(10);
    for (const path of spellings) expect(new URL(`file://${path}`).pathname.replace(/\/+/g, '/')).toBe('/run/rigor/x.sock');
  });
});
