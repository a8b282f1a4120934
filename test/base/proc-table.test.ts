import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kibField, memoryOf } from '../../sandbox-core/backends/memory.ts';
import { descendants, parseStat, readProcTable, sandboxProcesses, type ProcEntry } from '../../base/proc-table.ts';

const entry = (pid: number, ppid: number, pgid = pid): ProcEntry => ({ pid, ppid, pgid, state: 'S' });

describe('parseStat', () => {
  it('reads pid, state, ppid and pgid past a command name holding spaces and parentheses', () => {
    expect(parseStat('4242 (my (odd) name) T 17 4240 4240 0 -1 4194560 ...')).toEqual({ pid: 4242, ppid: 17, pgid: 4240, state: 'T' });
    expect(parseStat('garbage')).toBeNull();
  });
});

describe('descendants and sandboxProcesses', () => {
  const table = [entry(1, 0), entry(10, 1), entry(11, 10), entry(12, 11, 12), entry(20, 1, 10), entry(30, 1)];

  it('lists the tree under a root, parents first, and nothing for a missing root', () => {
    expect(descendants(table, 10)).toEqual([10, 11, 12]);
    expect(descendants(table, 99)).toEqual([]);
  });

  it('adds group members that left the tree (a double fork)', () => {
    expect(sandboxProcesses(10, [10], table)).toEqual([10, 11, 12, 20]);
  });

  it('finds a real child and grandchild of this process in /proc', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore', detached: true });
    try {
      // sh forks its sleep when it gets the CPU: on a busy host that can take a while.
      let tree = descendants(readProcTable(), process.pid);
      for (let waited = 0; tree.length < 3 && waited < 5000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        tree = descendants(readProcTable(), process.pid);
      }
      expect(tree).toContain(child.pid);
      expect(tree.length).toBeGreaterThanOrEqual(3);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
});

describe('memory', () => {
  it('reads kB fields and sums PSS of live processes, skipping ones that are gone', () => {
    expect(kibField('Rss:  1768 kB\nPss:   431 kB\n', 'Pss')).toBe(431);
    expect(kibField('Rss:  1768 kB\n', 'Pss')).toBeNull();
    const own = memoryOf([process.pid]);
    expect(own.kind).toBe('pss');
    expect(own.bytes).toBeGreaterThan(1024 * 1024);
    expect(memoryOf([process.pid, 2 ** 22 + 1]).bytes).toBeCloseTo(own.bytes, -6);
  });
});
