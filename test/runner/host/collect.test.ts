import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { Host } from '../../../runner/artifact/schema.ts';
import { collectHost, finishHost, hostId } from '../../../runner/host/collect.ts';
import { collectFingerprint } from '../../../runner/host/fingerprint.ts';

describe('collectHost', () => {
  it('returns a Host the artifact schema accepts, with plausible numbers', async () => {
    const host = await collectHost({ tools: ['node', 'no-such-tool-rigor'], probeKvm: false });
    const parsed = Host.safeParse(host);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(host.id).toBe(hostId());
    expect(host.cpu.logical_cpus).toBe(os.cpus().length);
    // /proc/meminfo and os.totalmem() both read the same kernel counter
    expect(Math.abs(host.memory.total_bytes - os.totalmem())).toBeLessThan(16 * 1024 ** 2);
    expect(host.memory.available_bytes).toBeGreaterThan(0);
    expect(host.memory.available_bytes).toBeLessThanOrEqual(host.memory.total_bytes);
    expect(host.load.after).toBeNull();
    expect(host.node).toBe(process.versions.node);
    expect(host.tools).toEqual({ node: process.versions.node, 'no-such-tool-rigor': null });
    expect(host.warnings).toContain('no-such-tool-rigor: not installed — apt-get install no-such-tool-rigor; cells needing it will be skipped');
    expect(host.warnings.some((line) => line.startsWith('kvm:'))).toBe(false);
    expect(host.fingerprint).toEqual(collectFingerprint());
  });

  it('finishHost reads load.after into a copy', async () => {
    const host = await collectHost({ tools: [], probeKvm: false });
    const finished = finishHost(host);
    expect(finished.load.after).toHaveLength(3);
    expect(host.load.after).toBeNull();
    expect(Host.safeParse(finished).success).toBe(true);
  });
});

describe('hostId', () => {
  it('is stable and fits in a file name', () => {
    const id = hostId();
    expect(hostId()).toBe(id);
    expect(id).toMatch(/^[a-z0-9][a-z0-9-]{0,19}-[0-9a-f]{6}$/);
  });
});
