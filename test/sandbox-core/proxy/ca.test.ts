import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCaDir, loadOrCreateCa } from '../../../sandbox-core/proxy/ca.ts';
import { LeafCache } from '../../../sandbox-core/proxy/leaf-cache.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'rigor-ca-'));

describe('loadOrCreateCa', () => {
  it('defaults to ${XDG_CACHE_HOME:-~/.cache}/rigor/ca', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/somewhere/cache';
      expect(defaultCaDir()).toBe('/somewhere/cache/rigor/ca');
      delete process.env.XDG_CACHE_HOME;
      expect(defaultCaDir()).toMatch(/\/\.cache\/rigor\/ca$/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('creates the CA with its key file readable by the owner only, and publishes the cert alone', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(join(dir, 'ca'));
    expect((await stat(join(dir, 'ca', 'ca.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'ca'))).mode & 0o777).toBe(0o700);
    const published = await readFile(join(dir, 'ca', 'cert.pem'), 'utf8');
    expect(published).not.toContain('PRIVATE KEY');
    const cert = new X509Certificate(published);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(ca.certPem.trim()).toBe(published.trim());
    // No temporary files are left behind.
    expect((await readdir(join(dir, 'ca'))).sort()).toEqual(['ca.pem', 'cert.pem']);
  });

  it('reuses the stored CA, also when several loads race to create it', async () => {
    const dir = join(await tempDir(), 'ca');
    const racing = await Promise.all([loadOrCreateCa(dir), loadOrCreateCa(dir), loadOrCreateCa(dir)]);
    const again = await loadOrCreateCa(dir);
    for (const ca of racing) expect(ca.certPem).toBe(again.certPem);
  });

  it('names the file when the stored bundle is damaged', async () => {
    const dir = join(await tempDir(), 'ca');
    await loadOrCreateCa(dir);
    await writeFile(join(dir, 'ca.pem'), 'garbage');
    await expect(loadOrCreateCa(dir)).rejects.toThrow(/ca\.pem: expected a CERTIFICATE and a PRIVATE KEY/);
  });
});

describe('LeafCache', () => {
  it('signs a leaf per host with the CA, for DNS names and IP addresses, and caches it', async () => {
    const ca = await loadOrCreateCa(join(await tempDir(), 'ca'));
    const leaves = new LeafCache(ca);
    const caCert = new X509Certificate(ca.certPem);
    const named = new X509Certificate((await leaves.get('Example.test')).certPem);
    expect(named.checkIssued(caCert)).toBe(true);
    expect(named.verify(caCert.publicKey)).toBe(true);
    expect(named.checkHost('example.test')).toBe('example.test');
    expect(named.checkHost('other.test')).toBeUndefined();
    expect(named.ca).toBe(false);
    const ip = new X509Certificate((await leaves.get('127.0.0.1')).certPem);
    expect(ip.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(await leaves.get('example.test')).toBe(await leaves.get('EXAMPLE.test'));
    expect(leaves.made).toBe(2);
  });

  it('evicts the least recently used host past its capacity', async () => {
    const leaves = new LeafCache(await loadOrCreateCa(join(await tempDir(), 'ca')), 2);
    await leaves.get('a.test');
    await leaves.get('b.test');
    await leaves.get('a.test');
    await leaves.get('c.test'); // evicts b
    await leaves.get('a.test');
    expect(leaves.made).toBe(3);
    await leaves.get('b.test');
    expect(leaves.made).toBe(4);
  });
});
