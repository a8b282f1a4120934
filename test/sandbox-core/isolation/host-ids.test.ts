import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireHostIds, HOST_ID_BASE, idMap, sweepStaleHostIdLocks } from '../../../sandbox-core/isolation/host-ids.ts';

let dirs: string[] = [];
const lockDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-host-ids-test-'));
  dirs.push(dir);
  return join(dir, 'locks');
};
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A pid that existed and is gone. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('acquireHostIds', () => {
  it('hands out distinct pairs, never root, each held by a lock naming this process until released', () => {
    const dir = lockDir();
    const pairs = Array.from({ length: 20 }, () => acquireHostIds({ lockDir: dir }));
    const uids = pairs.flatMap((pair) => [pair.agent, pair.command]);
    expect(new Set(uids).size).toBe(40);
    for (const pair of pairs) {
      expect(pair.agent).toBeGreaterThanOrEqual(HOST_ID_BASE);
      expect(pair.command).toBe(pair.agent + 1);
    }
    expect(readdirSync(dir)).toHaveLength(20);
    expect(new Set(readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')))).toEqual(new Set([String(process.pid)]));
    for (const pair of pairs) pair.release();
    pairs[0]!.release(); // idempotent
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock whose owner died, and refuses when every lock is held by a live process', () => {
    const dir = lockDir();
    const first = acquireHostIds({ lockDir: dir, slots: 1 });
    expect(() => acquireHostIds({ lockDir: dir, slots: 1 })).toThrow(/no free pair of sandbox uids: all 1 locks in .* are held by live processes/);
    first.release();
    const held = acquireHostIds({ lockDir: dir, slots: 1 });
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name!), String(deadPid())); // as if a SIGKILLed rigor had held it
    const taken = acquireHostIds({ lockDir: dir, slots: 1 });
    expect(taken.agent).toBe(held.agent);
    expect(readFileSync(join(dir, name!), 'utf8')).toBe(String(process.pid));
    taken.release();
  });
});

describe('sweepStaleHostIdLocks', () => {
  it('removes the locks of dead owners and keeps those of live ones (the kill battery found them left after the next run)', () => {
    const dir = lockDir();
    mkdirSync(dir, { recursive: true });
    const dead = spawnSync('true').pid!;
    writeFileSync(join(dir, '1'), String(dead));
    writeFileSync(join(dir, '2'), String(process.pid));
    writeFileSync(join(dir, '3'), String(process.ppid));
    expect(sweepStaleHostIdLocks(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['2', '3']);
  });
});

describe('idMap', () => {
  it('maps root inside to the agent and uid 1000 to the commands, and nothing to host root', () => {
    expect(idMap({ agent: 1500000010, command: 1500000011 })).toBe('0 1500000010 1\n1000 1500000011 1\n');
  });
});
