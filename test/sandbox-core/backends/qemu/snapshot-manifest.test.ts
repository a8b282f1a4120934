/** A snapshot's manifest.json: read with every field checked, and compared with what this host would restore with. Pure. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseManifest, restoreMismatch, type SnapshotManifest } from '../../../../sandbox-core/backends/qemu/snapshot-manifest.ts';

const manifest: SnapshotManifest = {
  format: 'rigor-qemu-snapshot',
  version: 1,
  saved_at: '2026-01-01T00:00:00.000Z',
  qemu: 'QEMU emulator version 7.2.22',
  kernel: { version: '6.1.0', sha256: 'a'.repeat(64) },
  image: 'image-key',
  machine: 'microvm',
  accel: 'tcg',
  memory_mib: 256,
  append: 'console=ttyS0',
  spec: { env: { A: 'b' } },
  agent: { hello: { version: 'rigor-agent x', kind: 'native', stages: [{ name: 'agent_start', ms: 1.5 }] }, next_id: 7 },
  files: { state: { bytes: 10, sha256: 'b'.repeat(64) }, ram: { bytes: 268435456, allocated_bytes: 4096 } },
};
const target = { qemu: manifest.qemu, kernel: manifest.kernel, image: manifest.image, accel: 'tcg' as const };

/** Every path to a leaf of `value`, as keys. */
function leaves(value: unknown, path: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [path];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
}

describe('parseManifest', () => {
  it('reads back what a save writes', () => {
    expect(parseManifest(JSON.stringify(manifest), 'm.json')).toEqual(manifest);
  });

  it('names the file, the field and what it found for any leaf replaced by a value of the wrong kind (fast-check, seed 19)', () => {
    const paths = leaves(manifest).filter((path) => !(path[0] === 'spec' || (path[0] === 'agent' && path[1] === 'hello')));
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.constantFrom<unknown>(null, [], { x: 1 }, true), (path, wrong) => {
        const copy = structuredClone(manifest) as Record<string, any>;
        let at = copy;
        for (const key of path.slice(0, -1)) at = at[key];
        at[path.at(-1)!] = wrong;
        expect(() => parseManifest(JSON.stringify(copy), 'snap/manifest.json')).toThrow(`snap/manifest.json: field ${path.join('.')}: `);
      }),
      { seed: 19, numRuns: 500 },
    );
  });

  it('says when the file is not JSON or has no field at all', () => {
    expect(() => parseManifest('{', 'm.json')).toThrow(/^m\.json: not JSON/);
    expect(() => parseManifest('[]', 'm.json')).toThrow(/^m\.json: field \(the whole file\): .*found \[\]/);
  });
});

describe('restoreMismatch', () => {
  it('accepts the host that saved it and names the first difference otherwise', () => {
    expect(restoreMismatch(manifest, target, 'snap')).toBeUndefined();
    expect(restoreMismatch(manifest, { ...target, qemu: 'QEMU emulator version 8.2.0' }, 'snap')).toMatch(/snapshot snap was saved by "QEMU emulator version 7\.2\.22", this host runs "QEMU emulator version 8\.2\.0"/);
    expect(restoreMismatch(manifest, { ...target, kernel: { version: '6.2', sha256: 'c'.repeat(64) } }, 'snap')).toMatch(/guest kernel 6\.1\.0 .* this backend boots 6\.2/);
    expect(restoreMismatch(manifest, { ...target, image: 'other' }, 'snap')).toMatch(/guest image image-key, this backend's is other/);
    expect(restoreMismatch(manifest, { ...target, accel: 'kvm' }, 'snap')).toMatch(/saved under TCG, this host runs guests under KVM/);
  });
});
