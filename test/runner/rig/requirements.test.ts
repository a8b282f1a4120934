import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingRequirement, type HostFacts } from '../../../runner/rig/requirements.ts';
import { which } from '../../../base/which.ts';

describe('which', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('finds sh on PATH and returns an absolute path', () => {
    expect(which('sh')).toMatch(/^\/.*\/sh$/);
  });

  it('returns null for a program that is nowhere', () => {
    expect(which('no-such-binary-xyz')).toBeNull();
    expect(which('')).toBeNull();
  });

  it('checks a path with a slash directly, and needs the executable bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rigor-which-'));
    const script = join(dir, 'tool');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o644);
    expect(which(script)).toBeNull();
    process.env.PATH = dir;
    expect(which('tool')).toBeNull();
    chmodSync(script, 0o755);
    expect(which(script)).toBe(script);
    expect(which('tool')).toBe(script);
    expect(which(dir)).toBeNull(); // a directory is not a program
    rmSync(dir, { recursive: true });
  });
});

const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
  isRoot: true,
  kvmUsable: async () => ({ usable: true, reason: '' }),
  hasBinary: (name) => which(name) !== null,
  ...over,
});

describe('missingRequirement', () => {
  it('is null when every requirement is met', async () => {
    expect(await missingRequirement([{ binary: 'sh' }, { root: true }, { kvm: true }], {}, facts())).toBeNull();
  });

  it('names a missing binary, with {param} substituted', async () => {
    expect(await missingRequirement([{ binary: '{tool}' }], { tool: 'no-such-binary-xyz' }, facts())).toBe(
      'needs no-such-binary-xyz on PATH (not found)',
    );
  });

  it('only applies requirements whose where matches the params', async () => {
    const reqs = [{ binary: 'no-such-binary-xyz', where: { backend: 'fc' } }];
    expect(await missingRequirement(reqs, { backend: 'bwrap' }, facts())).toBeNull();
    expect(await missingRequirement(reqs, { backend: 'fc' }, facts())).toMatch(/needs no-such-binary-xyz/);
  });

  it('says root is needed and which uid runs', async () => {
    expect(await missingRequirement([{ root: true }], {}, facts({ isRoot: false }))).toMatch(/^needs root \(running as uid \d+\)$/);
  });

  it('passes on the KVM probe reason, and probes only when asked', async () => {
    let probes = 0;
    const kvmUsable = async () => {
      probes++;
      return { usable: false, reason: 'guest hung under -enable-kvm' };
    };
    expect(await missingRequirement([{ binary: 'sh' }], {}, facts({ kvmUsable }))).toBeNull();
    expect(probes).toBe(0);
    expect(await missingRequirement([{ kvm: true }], {}, facts({ kvmUsable }))).toBe('needs usable KVM: guest hung under -enable-kvm');
  });

  it('reports the first unmet requirement in order', async () => {
    const reason = await missingRequirement([{ binary: 'sh' }, { binary: 'no-such-binary-xyz', root: true }], {}, facts({ isRoot: false }));
    expect(reason).toBe('needs no-such-binary-xyz on PATH (not found)');
  });
});
