/** A gvisor snapshot's manifest.json: read with every field checked, and compared with what this host would restore with. Pure. */
import { describe, expect, it } from 'vitest';
import { parseManifest, restoreMismatch, type GvisorSnapshotManifest } from '../../../../sandbox-core/backends/gvisor/snapshot-manifest.ts';

const manifest: GvisorSnapshotManifest = {
  format: 'rigor-gvisor-snapshot',
  version: 1,
  saved_at: '2026-01-01T00:00:00.000Z',
  runsc: '0.0~20221219.0',
  platform: 'ptrace',
  rootfs: '2f9dd27241bf3b59',
  spec: { env: { A: 'b' }, seccomp: 'default' },
  agent: { hello: { version: 'rigor-agent x', kind: 'native', stages: [{ name: 'agent_start', ms: 1.5 }] }, next_id: 7 },
  files: { image: { bytes: 115316, sha256: 'b'.repeat(64) } },
};
const target = { runsc: manifest.runsc, platform: 'ptrace', rootfs: manifest.rootfs };

describe('parseManifest (gvisor)', () => {
  it('reads back what a save writes', () => {
    expect(parseManifest(JSON.stringify(manifest), 'm.json')).toEqual(manifest);
  });

  it('names the file, the field and what it found', () => {
    expect(() => parseManifest(JSON.stringify({ ...manifest, format: 'rigor-qemu-snapshot' }), 'snap/manifest.json')).toThrow(/^snap\/manifest\.json: field format: .*found "rigor-qemu-snapshot"/);
    expect(() => parseManifest(JSON.stringify({ ...manifest, files: { image: { bytes: -1, sha256: 'x' } } }), 'm.json')).toThrow(/^m\.json: field files\.image\.bytes: .*found -1/);
    expect(() => parseManifest(JSON.stringify({ ...manifest, spec: { seccomp: 'none' } }), 'm.json')).toThrow(/^m\.json: field spec\.seccomp: .*found "none"/);
    expect(() => parseManifest('{', 'm.json')).toThrow(/^m\.json: not JSON/);
  });
});

describe('restoreMismatch (gvisor)', () => {
  it('accepts the host that saved it and names the first difference otherwise', () => {
    expect(restoreMismatch(manifest, target, 'snap')).toBeUndefined();
    expect(restoreMismatch(manifest, { ...target, runsc: 'release-20240101.0' }, 'snap')).toBe('snapshot snap was saved by runsc 0.0~20221219.0, this host runs runsc release-20240101.0: runsc restores only an image of its own version');
    expect(restoreMismatch(manifest, { ...target, platform: 'systrap' }, 'snap')).toBe("snapshot snap was saved on runsc's ptrace platform, this backend runs systrap");
    expect(restoreMismatch(manifest, { ...target, rootfs: 'other' }, 'snap')).toMatch(/saved over rootfs 2f9dd27241bf3b59, this backend's is other/);
  });
});
