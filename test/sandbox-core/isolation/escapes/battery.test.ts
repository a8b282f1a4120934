/**
 * The escape battery's judges can see an escape: on the `process` control,
 * which isolates nothing and runs as host root, every attempt safe to run
 * there succeeds, and every other is not tried. Counting per category.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processBackend } from '../../../../sandbox-core/backends/process.ts';
import { ESCAPE_ATTEMPTS } from '../../../../sandbox-core/isolation/escapes/attempts.ts';
import { confinementOf, countByCategory, openEscapeSession, type EscapeSession } from '../../../../sandbox-core/isolation/escapes/battery.ts';

describe('confinementOf', () => {
  it('names whose kernel the commands talk to', () => {
    expect(['process', 'bwrap', 'runc', 'gvisor', 'qemu', 'docker', 'podman'].map((name) => confinementOf(name))).toEqual(['none', 'namespaces', 'namespaces', 'sentry', 'guest', 'namespaces', 'namespaces']);
    expect(confinementOf('docker', 'runsc')).toBe('sentry');
    expect(confinementOf('podman', 'runc')).toBe('namespaces');
  });
});

describe('countByCategory', () => {
  it('counts tried attempts and escapes per category; one not tried counts in neither', () => {
    const counts = countByCategory([
      { name: 'a', category: 'network', escaped: false, evidence: '' },
      { name: 'b', category: 'network', escaped: true, evidence: '' },
      { name: 'c', category: 'sysctls', escaped: null, evidence: 'not here' },
    ]);
    expect(counts.network).toEqual({ attempts: 2, successes: 1 });
    expect(counts.sysctls).toEqual({ attempts: 0, successes: 0 });
    expect(counts.ca_key).toEqual({ attempts: 0, successes: 0 });
  });
});

describe.skipIf(process.getuid?.() !== 0)('the process control (no isolation, host root)', () => {
  let session: EscapeSession;
  beforeAll(async () => {
    session = await openEscapeSession(processBackend, 'none');
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  it.each(ESCAPE_ATTEMPTS.map((attempt) => ({ ...attempt, label: `${attempt.name}: ${attempt.tries}` })))('$label', async (attempt) => {
    const outcome = await session.run(attempt);
    if (!attempt.control) {
      expect(outcome.escaped, outcome.evidence).toBeNull();
      return;
    }
    // 10.0.2.2 is no host address here: only the host's own address can be reached
    if (attempt.name === 'connect-host-address' && !session.targets.externalAddress) return;
    expect(outcome.escaped, `${attempt.name} was not seen to escape where nothing confines it: ${outcome.evidence}`).toBe(true);
  });
});
