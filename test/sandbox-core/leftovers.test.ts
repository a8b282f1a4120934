import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirsFor, cgroupProcs, dirOf } from '../../base/cgroups.ts';
import { findLeftovers, ownerMarks, removeLeftovers } from '../../sandbox-core/leftovers.ts';
import { waitUntil } from '../helpers/leftovers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rigor-leftovers-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A pid no process has: one that just exited (reaped by spawnSync). */
const deadPid = (): number => spawnSync('true').pid!;

describe('ownerMarks', () => {
  it('reads the owner pid of every sandbox-name form rigor makes, in any surrounding text (seed 16004, 2,000 cases)', () => {
    const backend = fc.constantFrom('process', 'bwrap', 'qemu', 'docker', 'podman', 'firecracker');
    const hex = fc.stringMatching(/^[0-9a-f]{8}$/);
    const suffix = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
    const pid = fc.integer({ min: 1, max: 4_194_304 });
    const name = fc.oneof(
      fc.tuple(backend, pid, hex).map(([b, p, h]) => ({ text: `${b}-${p}-${h}`, pid: p })),
      fc.tuple(fc.constantFrom('runc', 'gvisor', 'qemu', 'process'), pid, suffix).map(([b, p, s]) => ({ text: `rigor-${b}-${p}-${s}`, pid: p })),
    );
    const around = fc.constantFrom(' ', '/', '=', '\0', ',');
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), around, name, around, fc.string({ maxLength: 20 }), (before, left, { text, pid: owner }, right, after) => {
        expect(ownerMarks(`${before}${left}${text}${right}${after}`)).toContain(owner);
      }),
      { seed: 16004, numRuns: 2000 },
    );
  });

  it('reads nothing from names that carry no owner', () => {
    expect(ownerMarks('/bin/sh -c rigor-runc-watchdog rigor-sandboxes rigor-dockerd-2 rigor-kill-battery-AbC123 bwrap-12-nothex!!')).toEqual([]);
  });
});

describe('findLeftovers and removeLeftovers', () => {
  it.skipIf(process.getuid?.() !== 0)('find a dead owner\'s process, cgroup, temp dir and uid lock by their markers, remove them, and find nothing after', async () => {
    const owner = deadPid();
    const tempRoot = mkdtempSync(join(scratch, 'tmp-'));
    const lockDir = mkdtempSync(join(scratch, 'locks-'));
    const name = `rigor-runc-${owner}-AbC123`;
    mkdirSync(join(tempRoot, name, 'bundle'), { recursive: true });
    mkdirSync(join(tempRoot, `rigor-runc-${process.pid}-Live12`));
    writeFileSync(join(lockDir, '7'), String(owner));
    writeFileSync(join(lockDir, '8'), String(process.pid));
    // a straggler whose command line names the dead owner's container, inside its cgroup
    const pids = dirOf(cgroupDirsFor(''), 'pids')!;
    const cgroup = join(pids, name);
    mkdirSync(cgroup);
    const straggler = spawn('sh', ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')}; sleep 60; : ${name}`], { stdio: 'ignore', detached: true });
    try {
      expect(await waitUntil(() => cgroupProcs(cgroup).length > 0 && ownerMarks(readFileSync(`/proc/${straggler.pid}/cmdline`, 'utf8')).length > 0)).toBe(true);
      const options = { owners: new Set([owner]), tempRoots: [tempRoot], engines: false, hostIdLockDir: lockDir };

      const found = await findLeftovers(options);
      const kinds = found.map((leftover) => leftover.kind);
      expect(kinds).toContain('process');
      expect(found.filter((leftover) => leftover.kind === 'cgroup').map((leftover) => leftover.what)).toContain(cgroup);
      expect(found.filter((leftover) => leftover.kind === 'temp-dir').map((leftover) => leftover.what)).toEqual([join(tempRoot, name)]);
      expect(found.filter((leftover) => leftover.kind === 'lock').map((leftover) => leftover.what)).toEqual([join(lockDir, '7')]);
      expect(found.every((leftover) => leftover.owner === owner)).toBe(true);

      const cleaned = await removeLeftovers(found);
      expect(cleaned.failed).toEqual([]);
      expect(cleaned.removed).toHaveLength(found.length);
      expect(await findLeftovers(options)).toEqual([]);
      expect(existsSync(cgroup)).toBe(false);
      // what a live owner holds stays
      expect(existsSync(join(tempRoot, `rigor-runc-${process.pid}-Live12`))).toBe(true);
      expect(existsSync(join(lockDir, '8'))).toBe(true);
    } finally {
      straggler.kill('SIGKILL');
      spawnSync('rmdir', [cgroup]);
    }
  });

  it('a lock a live process took over after the scan is left alone', async () => {
    const owner = deadPid();
    const lockDir = mkdtempSync(join(scratch, 'locks-'));
    writeFileSync(join(lockDir, '3'), String(owner));
    const found = await findLeftovers({ owners: new Set([owner]), tempRoots: [], engines: false, hostIdLockDir: lockDir });
    expect(found.map((leftover) => leftover.kind)).toEqual(['lock']);
    writeFileSync(join(lockDir, '3'), String(process.pid));
    await removeLeftovers(found);
    expect(existsSync(join(lockDir, '3'))).toBe(true);
  });
});
