import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureNativeSpawner, helperPath } from '../../runner/workloads/native-build.ts';
import { openSpawner, type RunOptions, type Spawner } from '../../runner/workloads/spawner.ts';
import { childrenOf, groupMembers, isAlive, waitFor } from './processes.ts';

const programs = fileURLToPath(new URL('../fixtures/programs/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rigor-spawner-test-'));
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const never = new AbortController().signal;
const options = (extra: Partial<RunOptions> = {}): RunOptions => ({ output: 'discard', timeoutMs: 10_000, signal: never, ...extra });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('native spawner build', () => {
  it('builds once into a directory named by the source hash, then reuses it', async () => {
    const first = await ensureNativeSpawner({ cacheDir });
    expect(first.built).toBe(true);
    expect(first.path).toMatch(/rigor\/native\/[0-9a-f]{64}\/spawner$/);
    const second = await ensureNativeSpawner({ cacheDir });
    expect(second).toMatchObject({ path: first.path, built: false });
    expect(helperPath('int main(void){return 0;}', cacheDir)).not.toBe(first.path);
  });

  it('falls back to the node spawner, saying why, when the compiler is missing', async () => {
    const { spawner, note } = await openSpawner('native', { cacheDir: join(scratch, 'empty-cache'), compiler: join(scratch, 'no-cc') });
    expect(spawner.kind).toBe('node');
    expect(note).toMatch(/^node: the native helper could not be built \(.*no-cc failed: .*ENOENT/);
    expect((await spawner.run(['true'], options())).exitCode).toBe(0);
    await spawner.close();
  });
});

for (const kind of ['native', 'node'] as const) {
  describe(`${kind} spawner`, () => {
    let opened: Spawner;
    const spawner = async () => (opened ??= (await openSpawner(kind, { cacheDir })).spawner);
    afterAll(() => opened?.close());

    it('times `true` in a sane number of milliseconds', async () => {
      const s = await spawner();
      expect(s.kind).toBe(kind);
      const runs = [];
      for (let i = 0; i < 20; i++) runs.push(await s.run(['true'], options()));
      expect(runs.every((run) => run.exitCode === 0 && run.signal === null)).toBe(true);
      const wall = median(runs.map((run) => run.wallMs));
      expect(wall).toBeGreaterThan(0.05);
      expect(wall).toBeLessThan(20);
      if (kind === 'native') expect(runs[0]!.userMs).not.toBeNull();
      else expect(runs[0]!.userMs).toBeNull();
    });

    it('reports exit codes, signals and the stderr tail', async () => {
      const s = await spawner();
      const exited = await s.run(['sh', '-c', 'echo oops >&2; exit 7'], options());
      expect(exited).toMatchObject({ exitCode: 7, signal: null, stderrTail: 'oops\n' });
      expect(await s.run(['sh', '-c', 'kill -KILL $$'], options())).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    });

    it('passes env and cwd, and returns stdout only when kept', async () => {
      const s = await spawner();
      const kept = await s.run(['sh', '-c', 'echo "$RIGOR_X"; pwd'], options({ env: { RIGOR_X: 'x y' }, cwd: scratch, output: 'keep' }));
      expect(kept.stdoutTail).toBe(`x y\n${scratch}\n`);
      const piped = await s.run(['seq', '1', '100000'], options({ output: 'pipe' }));
      expect(piped.exitCode).toBe(0);
      expect(piped.stdoutTail).toBeUndefined();
    });

    it('rejects for a program that cannot start', async () => {
      await expect((await spawner()).run(['rigor-no-such-program'], options())).rejects.toThrow('cannot start rigor-no-such-program: ENOENT');
    });

    it('kills the process group on abort and on timeout', async () => {
      const s = await spawner();
      const pidFile = join(scratch, `abort-${kind}.pid`);
      const controller = new AbortController();
      const running = s.run([join(programs, 'sleep-family.sh'), pidFile], options({ signal: controller.signal }));
      await waitFor(() => existsSync(pidFile));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true);
      controller.abort(new Error('stop'));
      await expect(running).rejects.toThrow('stop');
      expect(await waitFor(() => groupMembers(pid).length === 0, 1000)).toBe(true); // SIGKILL lands within moments
      await expect(s.run(['sleep', '30'], options({ timeoutMs: 200 }))).rejects.toThrow('sleep took longer than 200 ms and was killed');
    });

    it('runs several commands at once', async () => {
      const s = await spawner();
      const started = performance.now();
      const runs = await Promise.all([1, 2, 3].map(() => s.run(['sleep', '0.2'], options())));
      expect(runs.map((run) => run.exitCode)).toEqual([0, 0, 0]);
      expect(performance.now() - started).toBeLessThan(550);
    });
  });
}

describe('native helper lifetime', () => {
  it('dies with its parent and takes the running command group with it', async () => {
    const pidFile = join(scratch, 'orphan.pid');
    const parent = spawn(process.execPath, ['--import', 'tsx', join(programs, 'spawner-parent.ts'), cacheDir, pidFile], { stdio: 'ignore' });
    try {
      expect(await waitFor(() => existsSync(pidFile), 15_000)).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true);
      const [helper] = childrenOf(parent.pid!);
      expect(helper).toBeDefined();
      parent.kill('SIGKILL');
      expect(await waitFor(() => !isAlive(helper!) && !isAlive(pid) && groupMembers(pid).length === 0)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 20_000);
});
