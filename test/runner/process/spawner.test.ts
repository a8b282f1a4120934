import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureNativeSpawner, helperPath } from '../../../runner/process/native-build.ts';
import { type BatchOptions, type RunOptions, type Spawner, type TimedRun } from '../../../runner/process/spawner.ts';
import { openSpawner } from '../../../runner/process/open-spawner.ts';
import { resolveCommand, type ResolvedCommand } from '../../../runner/process/program.ts';
import { which } from '../../../base/which.ts';
import { countedRun } from '../../helpers/counted-run.ts';
import { childrenOf, groupMembers, isAlive, waitFor } from '../../helpers/processes.ts';

const programs = fileURLToPath(new URL('../../fixtures/programs', import.meta.url));
const family = join(programs, 'sleep-family.sh');
const scratch = mkdtempSync(join(tmpdir(), 'rigor-spawner-test-'));
const cacheDir = join(scratch, 'cache');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const never = new AbortController().signal;
const options = (extra: Partial<RunOptions> = {}): RunOptions => ({ output: 'discard', timeoutMs: 10_000, signal: never, ...extra });

/** argv with its program found on PATH, as the command workload does before timing. */
const cmd = (...argv: string[]): ResolvedCommand => resolveCommand(argv);
/** A program that is not there, by absolute path: the spawner gets as far as exec. */
const missing: ResolvedCommand = { file: join(scratch, 'rigor-no-such-program'), argv: ['rigor-no-such-program'] };

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
    expect(await helperPath({ cacheDir })).toBe(first.path);
    const other = join(scratch, 'other.c');
    writeFileSync(other, 'int main(void){return 0;}\n');
    expect(await helperPath({ cacheDir }, other)).not.toBe(first.path);
  });

  it('falls back to the node spawner, saying why, when the compiler is missing', async () => {
    const { spawner, note } = await openSpawner('native', { cacheDir: join(scratch, 'empty-cache'), compiler: join(scratch, 'no-cc') });
    expect(spawner.kind).toBe('node');
    expect(note).toMatch(/^node: the native helper could not be built \(.*no-cc failed: .*ENOENT/);
    expect((await spawner.run(cmd('true'), options())).exitCode).toBe(0);
    await spawner.close();
  });
});

for (const kind of ['native', 'node'] as const) {
  describe(`${kind} spawner`, () => {
    let opened: Spawner;
    const spawner = async () => (opened ??= (await openSpawner(kind, { cacheDir })).spawner);
    afterAll(() => opened?.close());

    it('times `true`: every run measured, none failed', async () => {
      const s = await spawner();
      expect(s.kind).toBe(kind);
      const runs = [];
      for (let i = 0; i < 20; i++) runs.push(await s.run(cmd('true'), options()));
      expect(runs.every((run) => run.exitCode === 0 && run.signal === null)).toBe(true);
      const wall = median(runs.map((run) => run.wallMs));
      expect(wall).toBeGreaterThan(0.05);
      if (kind === 'native') expect(runs[0]!.userMs).not.toBeNull();
      else expect(runs[0]!.userMs).toBeNull();
    });

    it('reports exit codes, signals and the stderr tail', async () => {
      const s = await spawner();
      const exited = await s.run(cmd('sh', '-c', 'echo oops >&2; exit 7'), options());
      expect(exited).toMatchObject({ exitCode: 7, signal: null, stderrTail: 'oops\n' });
      expect(await s.run(cmd('sh', '-c', 'kill -KILL $$'), options())).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    });

    it('passes env and cwd, and returns stdout only when kept', async () => {
      const s = await spawner();
      const kept = await s.run(cmd('sh', '-c', 'echo "$RIGOR_X"; pwd'), options({ env: { RIGOR_X: 'x y' }, cwd: scratch, output: 'keep' }));
      expect(kept.stdoutTail).toBe(`x y\n${scratch}\n`);
      const piped = await s.run(cmd('seq', '1', '100000'), options({ output: 'pipe' }));
      expect(piped.exitCode).toBe(0);
      expect(piped.stdoutTail).toBeUndefined();
      expect(piped.stdoutBytes).toBeUndefined();
    });

    it('counts the bytes of stdout when kept, and returns all of it with output all', async () => {
      const s = await spawner();
      // 588 895 bytes: far past the 4 KiB tail and a pipe's buffer, so all of it crosses in several reads.
      const kept = await s.run(cmd('seq', '1', '100000'), options({ output: 'keep' }));
      expect(kept.stdoutBytes).toBe(588_895);
      expect(kept.stdoutTail).toMatch(/\n99999\n100000\n$/);
      expect(kept.stdout).toBeUndefined();
      const all = await s.run(cmd('seq', '1', '100000'), options({ output: 'all' }));
      expect(all.stdoutBytes).toBe(588_895);
      expect(all.stdout?.toString('utf8')).toBe(Array.from({ length: 100000 }, (_, i) => `${i + 1}\n`).join(''));
      expect(all.stdoutTail).toMatch(/\n100000\n$/);
      const empty = await s.run(cmd('true'), options({ output: 'all' }));
      expect(empty).toMatchObject({ stdoutBytes: 0, stdoutTail: '' });
      expect(empty.stdout?.length).toBe(0);
    });

    it('execs the path it is given with argv[0] as given, searching no PATH, and refuses a path it would have to search', async () => {
      const s = await spawner();
      // argv[0] names `true`, which prints nothing: a spawner that looked argv[0] up on PATH would run that instead.
      const script = join(scratch, `exec-path-${kind}.sh`);
      writeFileSync(script, '#!/bin/sh\necho "ran $0"\n', { mode: 0o755 });
      expect((await s.run({ file: script, argv: ['true'] }, options({ output: 'keep' }))).stdoutTail).toBe(`ran ${script}\n`);
      const named = await s.run({ file: which('sh')!, argv: ['rigor-sh', '-c', 'echo "$0"'] }, options({ output: 'keep' }));
      expect(named.stdoutTail).toBe('rigor-sh\n');
      await expect(s.run({ file: 'true', argv: ['true'] }, options())).rejects.toThrow('spawner: expected an absolute path to exec');
    });

    it('rejects for a program that cannot start', async () => {
      await expect((await spawner()).run(missing, options())).rejects.toThrow('cannot start rigor-no-such-program: ENOENT');
    });

    it('kills the process group on abort and on timeout', async () => {
      const s = await spawner();
      const pidFile = join(scratch, `abort-${kind}.pid`);
      const controller = new AbortController();
      const running = s.run(cmd(family, pidFile), options({ signal: controller.signal }));
      await waitFor(() => existsSync(pidFile));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true);
      controller.abort(new Error('stop'));
      await expect(running).rejects.toThrow('stop');
      expect(await waitFor(() => groupMembers(pid).length === 0, 1000)).toBe(true); // SIGKILL lands within moments
      await expect(s.run(cmd('sleep', '30'), options({ timeoutMs: 200 }))).rejects.toThrow('sleep took longer than 200 ms and was killed');
    });

    it('runs several commands at once', async () => {
      const s = await spawner();
      // Each run marks itself, then waits (boundedly) until all three are marked: run one at a time, each would fail.
      const dir = mkdtempSync(join(scratch, `${kind}-together-`));
      const script = `touch ${dir}/$$; for i in $(seq 1000); do [ $(ls ${dir} | wc -l) -ge 3 ] && exit 0; sleep 0.01; done; exit 1`;
      const runs = await Promise.all([1, 2, 3].map(() => s.run(cmd('sh', '-c', script), options())));
      expect(runs.map((run) => run.exitCode)).toEqual([0, 0, 0]);
    });
  });
}

describe('native spawner batches', () => {
  let opened: Spawner;
  const batch = async (argv: string[] | ResolvedCommand, extra: Partial<BatchOptions> & { count: number }) => {
    opened ??= (await openSpawner('native', { cacheDir })).spawner;
    const chunks: { at: number; runs: TimedRun[] }[] = [];
    const opts: BatchOptions = { ...options(), expectExit: 0, onRuns: (runs) => chunks.push({ at: performance.now(), runs }), ...extra };
    const end = await opened.runBatch!(Array.isArray(argv) ? resolveCommand(argv) : argv, opts);
    return { end, chunks, runs: chunks.flatMap((chunk) => chunk.runs), finished: performance.now() };
  };
  afterAll(() => opened?.close());

  it('times N runs back to back and hands each one over, in order', async () => {
    const { end, runs } = await batch(['true'], { count: 200 });
    expect(end).toEqual({ done: 200 });
    expect(runs).toHaveLength(200);
    expect(runs.every((run) => run.exitCode === 0 && run.wallMs > 0.05 && run.userMs !== null)).toBe(true);
  });

  it('with output all, hands each run of a batch over with all of its own stdout', async () => {
    const count = join(scratch, 'all.count');
    const { runs } = await batch(['sh', '-c', `n=$(($(cat ${count} 2>/dev/null || echo 0) + 1)); echo $n > ${count}; seq 1 \${n}0000`], { count: 3, output: 'all' });
    expect(runs.map((run) => run.stdout?.toString('utf8').split('\n').at(-2))).toEqual(['10000', '20000', '30000']);
    expect(runs.map((run) => run.stdoutBytes)).toEqual([48_894, 108_894, 168_894]);
  });

  it('ends at the first unexpected exit code, with that run and its stderr tail', async () => {
    const failing = countedRun(scratch, 'exit.count', 3, 'exit 4');
    const { end, runs } = await batch(failing.argv, { count: 10 });
    expect(runs).toHaveLength(3);
    expect(end).toMatchObject({ done: 3, stop: { reason: 'exit', run: { exitCode: 4, signal: null, stderrTail: 'run 3\n' } } });
    expect(failing.runs()).toBe(4); // nothing ran after the failure
    const any = await batch(countedRun(scratch, 'any.count', 3, 'exit 4').argv, { count: 5, expectExit: 'any' });
    expect(any.end).toEqual({ done: 5 });
  });

  it('ends at a run that cannot start', async () => {
    const { end } = await batch(missing, { count: 5 });
    expect(end).toEqual({ done: 0, stop: { reason: 'cannot-start', message: 'cannot start rigor-no-such-program: ENOENT' } });
  });

  it('kills a run over timeoutMs, ends the batch there and leaves nothing running', async () => {
    const slow = countedRun(scratch, 'slow.count', 2, 'exec sleep 5');
    const { end } = await batch(slow.argv, { count: 10, timeoutMs: 300 });
    expect(end).toEqual({ done: 2, stop: { reason: 'timeout' } });
    expect(await waitFor(() => groupMembers(slow.pid()).length === 0, 5000)).toBe(true);
    expect(slow.runs()).toBe(3);
  });

  it('hands runs over in chunks while a long batch runs', async () => {
    const { end, chunks, finished } = await batch(['sleep', '0.03'], { count: 12 });
    expect(end.done).toBe(12);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    expect(chunks[0]!.at).toBeLessThan(finished); // handed over while the batch still ran, not all at its end
  });

  it('on abort kills the running command group at once, keeps the runs before, and serves the next batch', async () => {
    const pidFile = join(scratch, 'batch-abort.pid');
    const controller = new AbortController();
    const running = batch([family, pidFile], { count: 3, signal: controller.signal });
    await waitFor(() => existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true);
    controller.abort(new Error('stop'));
    await expect(running).rejects.toThrow('stop');
    expect(await waitFor(() => groupMembers(pid).length === 0, 5000)).toBe(true);
    expect((await batch(['true'], { count: 3 })).end).toEqual({ done: 3 });
  });

  // The request is in the helper's pipe before abort() runs: a helper that reads it before the "!"
  // (Node descheduled between the two writes) starts the first run. What is promised is that the run
  // is killed and not counted; that a waiting "!" stops the first run is the protocol test below.
  it('aborted right after the request: rejects, counts no run, leaves nothing running, serves the next batch', async () => {
    const pidFile = join(scratch, 'early-abort.pid');
    const controller = new AbortController();
    let counted = 0;
    const running = batch([family, pidFile], { count: 3, signal: controller.signal, onRuns: (runs) => (counted += runs.length) });
    controller.abort(new Error('early'));
    await expect(running).rejects.toThrow('early');
    await sleep(300);
    expect(counted).toBe(0);
    if (existsSync(pidFile)) expect(await waitFor(() => groupMembers(Number(readFileSync(pidFile, 'utf8'))).length === 0, 1000)).toBe(true);
    expect((await batch(['true'], { count: 2 })).end).toEqual({ done: 2 });
  });
});

describe('native helper protocol', () => {
  it('runs nothing when the abort is already waiting as it reads the request', async () => {
    const { path } = await ensureNativeSpawner({ cacheDir });
    const pidFile = join(scratch, 'waiting-abort.pid');
    const helper = spawn(path, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const ended = new Promise<void>((resolve) => helper.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()).endsWith('.\n') && resolve()));
    try {
      // one write (under PIPE_BUF, so atomic): the helper cannot see the request without the "!"; a run would end at 1 s as "t"
      helper.stdin.write(`d 2 0 0 3 1000 0\n\0${family}\0${family}\0${pidFile}\0!\n`);
      await ended;
      expect(out).toBe('.\n');
      expect(existsSync(pidFile)).toBe(false);
    } finally {
      helper.kill('SIGKILL');
    }
  });

  it('stops a batch between runs when its stdin closes, and exits', async () => {
    const { path } = await ensureNativeSpawner({ cacheDir });
    const helper = spawn(path, [], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => helper.once('exit', resolve));
    // 100 counted runs of 50 ms; once stdin closes the helper must stop between runs rather than finish them.
    const counted = countedRun(scratch, 'stdin-close.count', 1000, 'true');
    const argv = ['sh', '-c', `${counted.argv[2]}; sleep 0.05`, ...counted.argv.slice(3)];
    helper.stdin.write(`d ${argv.length} 0 0 100 10000 0\n\0${resolveCommand(argv).file}\0${argv.join('\0')}\0`);
    await waitFor(() => existsSync(join(scratch, 'stdin-close.count')) && counted.runs() >= 2);
    helper.stdin.end();
    await exited;
    expect(counted.runs()).toBeLessThan(100);
  });
});

describe('native helper lifetime', () => {
  it('dies with its parent and takes the running command group with it', async () => {
    const pidFile = join(scratch, 'orphan.pid');
    const parent = spawn(process.execPath, ['--import', 'tsx', join(programs, 'spawner-parent.ts'), cacheDir, pidFile], { stdio: 'ignore' });
    try {
      expect(await waitFor(() => existsSync(pidFile), 15_000)).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true);
      const [helper] = childrenOf(parent.pid!);
      expect(isAlive(helper!)).toBe(true); // the helper runs before its parent dies
      parent.kill('SIGKILL');
      expect(await waitFor(() => !isAlive(helper!) && !isAlive(pid) && groupMembers(pid).length === 0)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 20_000);
});
