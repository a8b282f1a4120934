import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { descendants, readProcTable } from '../../base/proc-table.ts';
import { destroyAllSandboxes, killSync, liveSandboxes, makeSandboxTempDir, newResources, reclaimSync, trackSandbox, untrackSandbox } from '../../sandbox-core/cleanup.ts';
import { sweepStaleTempDirs } from '../../base/temp-dirs.ts';
import { membersOfGroups, settlesToZero, waitUntil } from '../helpers/leftovers.ts';

const FIXTURE = fileURLToPath(new URL('./cleanup/fixtures/exit-with-live-sandbox.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rigor-cleanup-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sleeper(): number {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

describe('destroyAllSandboxes', () => {
  it('destroys every live sandbox and reclaims one whose destroy() throws', async () => {
    const destroyed: string[] = [];
    const good = { id: 'good', backend: 'test', resources: newResources(), destroy: async () => { destroyed.push('good'); untrackSandbox(good); } };
    const bad = { id: 'bad', backend: 'test', resources: newResources(), destroy: async () => { throw new Error('engine gone'); } };
    const pgid = sleeper();
    const dir = join(scratch, 'bad-sandbox');
    mkdirSync(dir);
    bad.resources.processGroups.add(pgid);
    bad.resources.tempDirs.add(dir);
    trackSandbox(good);
    trackSandbox(bad);

    const result = await destroyAllSandboxes();

    expect(destroyed).toEqual(['good']);
    expect(result).toEqual({ destroyed: 1, failed: [{ id: 'bad', backend: 'test', error: 'engine gone' }] });
    expect(liveSandboxes()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(await settlesToZero(() => membersOfGroups([pgid]).length)).toBe(0);
  });
});

describe('the exit last resort', () => {
  it('kills the recorded groups and removes the temp dirs of a process that calls process.exit()', async () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, TMPDIR: scratch }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(3);
    const { pgid, dir } = JSON.parse(run.stdout) as { pgid: number; dir: string };
    expect(dir.startsWith(join(scratch, 'rigor-fixture-'))).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(await settlesToZero(() => membersOfGroups([pgid]).length)).toBe(0);
  });
});

const WAITER = fileURLToPath(new URL('./cleanup/fixtures/wait-with-live-sandbox.ts', import.meta.url));

/** The waiter fixture started, once it printed what its sandbox holds. */
async function waiter(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', WAITER, ...args], { env: { ...process.env, TMPDIR: scratch }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await waitUntil(() => out.includes('\n'), 60_000);
  const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  return { child, exit, held: JSON.parse(out.split('\n')[0]!) as { pgid: number; dir: string }, output: () => out };
}

describe('the signal last resort', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('reclaims a sandbox of a process that does not handle %s, which then ends of it', async (signal) => {
    const { child, exit, held } = await waiter([]);
    child.kill(signal);
    expect(await exit).toBe(signal);
    expect(existsSync(held.dir)).toBe(false);
    expect(await settlesToZero(() => membersOfGroups([held.pgid]).length)).toBe(0);
  });

  it('leaves SIGTERM to a program that handles it: its sandbox lives on until the program ends', async () => {
    const { child, exit, held, output } = await waiter(['listen']);
    child.kill('SIGTERM');
    await waitUntil(() => output().includes('mine\n'), 60_000);
    expect(existsSync(held.dir)).toBe(true);
    expect(membersOfGroups([held.pgid]).length).toBe(1);
    child.kill('SIGKILL');
    expect(await exit).toBe('SIGKILL');
    // SIGKILL runs no last resort: the group's sleep lives on until the test kills it
    process.kill(-held.pgid, 'SIGKILL');
    rmSync(held.dir, { recursive: true, force: true });
  });
});

describe('killSync', () => {
  it('kills a recorded tree down to a command that left the group with setsid', async () => {
    const shell = spawn('sh', ['-c', 'setsid sleep 60 & wait'], { detached: true, stdio: 'ignore' });
    const resources = newResources();
    resources.processTrees.add(shell.pid!);
    try {
      // The child left the shell's group once setsid ran in it.
      const escapedChild = () => {
        const table = readProcTable();
        const [, child] = descendants(table, shell.pid!);
        return table.find((entry) => entry.pid === child && entry.pgid !== shell.pid)?.pid;
      };
      expect(await waitUntil(() => escapedChild() !== undefined)).toBe(true);
      const escaped = escapedChild()!;

      killSync(resources);

      const alive = () => readProcTable().filter((entry) => (entry.pid === escaped || entry.pid === shell.pid) && entry.state !== 'Z').length;
      expect(await settlesToZero(alive)).toBe(0);
    } finally {
      killSync(resources);
    }
  });
});

describe('reclaimSync', () => {
  it.skipIf(process.getuid?.() !== 0)('runs the backend steps after killing and leaves a dir alone while a host mount is under it (needs root to mount)', () => {
    const resources = newResources();
    const dir = makeSandboxTempDir(resources, 'mounttest');
    const mountPoint = join(dir, 'mnt');
    mkdirSync(mountPoint);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'rigor-test', mountPoint]).status).toBe(0);
    try {
      reclaimSync(resources);
      expect(existsSync(mountPoint)).toBe(true);
      resources.lastResort.push(() => spawnSync('umount', [mountPoint]));
      reclaimSync(resources);
      expect(existsSync(dir)).toBe(false);
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});

describe('sweepStaleTempDirs', () => {
  it('removes dirs whose owner pid is dead and keeps those whose owner lives', () => {
    const root = mkdtempSync(join(scratch, 'sweep-'));
    const dead = spawnSync('true').pid!;
    const alive = sleeper();
    try {
      mkdirSync(join(root, `rigor-bwrap-${dead}-abc123`));
      mkdirSync(join(root, `rigor-bwrap-${alive}-def456`));
      mkdirSync(join(root, `rigor-bwrap-${process.pid}-ownDir`));
      mkdirSync(join(root, 'unrelated-dir'));
      mkdirSync(join(root, `rigor-qemu-${dead}-not-made-by-us`));

      expect(sweepStaleTempDirs(root)).toEqual([join(root, `rigor-bwrap-${dead}-abc123`)]);
      expect(existsSync(join(root, `rigor-bwrap-${alive}-def456`))).toBe(true);
      expect(existsSync(join(root, `rigor-bwrap-${process.pid}-ownDir`))).toBe(true);
      expect(existsSync(join(root, 'unrelated-dir'))).toBe(true);
      expect(existsSync(join(root, `rigor-qemu-${dead}-not-made-by-us`))).toBe(true);
    } finally {
      process.kill(-alive, 'SIGKILL');
    }
  });
});
