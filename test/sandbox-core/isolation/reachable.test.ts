import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConnectable, checkReachable } from '../../../sandbox-core/isolation/reachable.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkReachable', () => {
  it('refuses a directory on the way that others cannot search, naming it and the field', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigor-reachable-test-')); // mkdtemp makes 0700, like a build cache key directory
    mkdirSync(join(dir, 'sub'));
    await expect(checkReachable(join(dir, 'sub', 'proxy.sock'), 'sandbox spec egress.proxySocket')).rejects.toThrow(
      `sandbox spec egress.proxySocket: ${join(dir, 'sub', 'proxy.sock')} must be reachable by the sandbox's unprivileged uids, but ${dir} (mode 700) is not searchable by others: make it 0711 or wider`,
    );
  });

  it('refuses a directory others may write (the path could be swapped), accepts a sticky one such as /tmp', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigor-reachable-test-'));
    chmodSync(dir, 0o777);
    await expect(checkReachable(join(dir, 'x'), 'what')).rejects.toThrow(`what: ${dir} must be owned by root and writable by nobody else (uid 0, mode 777)`);
    chmodSync(dir, 0o1777);
    await expect(checkReachable(join(dir, 'x'), 'what')).resolves.toBeUndefined();
    chmodSync(dir, 0o711);
    await expect(checkReachable(join(dir, 'x'), 'what')).resolves.toBeUndefined();
  });
});

describe('checkConnectable', () => {
  it('says there is no socket where the spec names one, or another kind of file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rigor-reachable-test-'));
    chmodSync(dir, 0o711);
    await expect(checkConnectable(join(dir, 'proxy.sock'), 'sandbox spec egress.proxySocket')).rejects.toThrow(
      `sandbox spec egress.proxySocket: expected a listening unix socket, found nothing at ${join(dir, 'proxy.sock')}`,
    );
    writeFileSync(join(dir, 'file'), '');
    await expect(checkConnectable(join(dir, 'file'), 'what')).rejects.toThrow(`what: expected a listening unix socket, found another kind of file at ${join(dir, 'file')}`);
  });
});
