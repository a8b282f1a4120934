import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCommandWorkload } from '../../../runner/workloads/command.ts';
import { which } from '../../../base/which.ts';
import { schemaProblems } from '../../../runner/rig/param-problems.ts';
import { WorkloadError } from '../../../runner/contract/workload.ts';
import { testCell } from '../../helpers/cell-context.ts';
import { countedRun } from '../../helpers/counted-run.ts';
import { groupMembers, isAlive, waitFor } from '../../helpers/processes.ts';

const programs = fileURLToPath(new URL('../../fixtures/programs', import.meta.url));
const record = join(programs, 'record.sh');
const fail = join(programs, 'fail.sh');
const family = join(programs, 'sleep-family.sh');
const cacheDir = join(tmpdir(), 'rigor-test-native-cache');
const workload = createCommandWorkload({ spawnerBuild: { cacheDir } });
const scratch = mkdtempSync(join(tmpdir(), 'rigor-command-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('command workload', () => {
  it('times an argv with the native spawner: wall time plus the child rusage', async () => {
    const { ctx } = testCell({ params: { run: ['true'] }, sampling: { warmup: 1, iterations: 5 }, metrics: { wall_ms: {}, user_ms: {}, sys_ms: {} } });
    const result = await workload.run(ctx);
    expect(result.samples.wall_ms).toHaveLength(5);
    for (const ms of result.samples.wall_ms!) expect(ms).toBeGreaterThan(0.01);
    expect(result.samples.user_ms).toHaveLength(5);
    expect(result.samples.sys_ms).toHaveLength(5);
    expect(result.facts?.spawner).toMatchObject({ kind: 'native' });
    expect(result.facts?.loop).toBe('batch');
  });

  it('runs back to back in the helper only when nothing has to happen between runs', async () => {
    const loopOf = async (params: Record<string, unknown>, sampling = {}) =>
      (await workload.run(testCell({ params: { run: ['true'], ...params }, sampling: { iterations: 2, ...sampling } }).ctx)).facts?.loop;
    expect(await loopOf({ output: 'keep' })).toBe('batch');
    expect(await loopOf({ setup: ['true'], cleanup: ['true'] })).toBe('batch');
    expect(await loopOf({ prepare: ['true'] })).toBe('per-run');
    expect(await loopOf({ conclude: ['true'] })).toBe('per-run');
    expect(await loopOf({ drop_caches: true })).toBe('per-run');
    expect(await loopOf({}, { concurrency: 2 })).toBe('per-run');
    expect(await loopOf({ spawner: 'node' })).toBe('per-run');
  });

  it('in a batch, fails at the run that exits unexpectedly, naming it, with the samples before', async () => {
    const { ctx } = testCell({ params: { run: countedRun(scratch, 'batch-exit.count', 3, 'exit 4').argv }, sampling: { warmup: 1, iterations: 10 } });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toMatch(/^sample 3: sh -c .* exited with code 4, expected exit code 0; last 20 lines of stderr:\nrun 3$/);
    expect(error.partial?.samples.wall_ms).toHaveLength(2);
    expect(error.partial?.facts?.loop).toBe('batch');
  });

  it('in a batch, fails a run over timeout_s, naming it, and kills it', async () => {
    const slow = countedRun(scratch, 'batch-slow.count', 2, 'exec sleep 5');
    const { ctx } = testCell({ params: { run: slow.argv }, sampling: { iterations: 10, timeout_s: 0.3 } });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error.message).toBe('sample 3 took longer than timeout_s (0.3 s)');
    expect(error.partial?.samples.wall_ms).toHaveLength(2);
    expect(await waitFor(() => groupMembers(slow.pid()).length === 0, 1000)).toBe(true);
  });

  it('reports progress while a batch runs', async () => {
    const { ctx, progress } = testCell({ params: { run: ['sleep', '0.03'] }, sampling: { iterations: 12 } });
    await workload.run(ctx);
    const samples = progress.filter((p) => p.phase === 'sample');
    expect(samples.length).toBeGreaterThanOrEqual(4);
    expect(samples.at(-1)).toEqual({ phase: 'sample', done: 12, total: 12 });
  });

  it('runs setup once, prepare and conclude around every run, cleanup once, in that order', async () => {
    const file = join(scratch, 'order.txt');
    const { ctx } = testCell({
      params: {
        run: ['sh', record, 'run'],
        setup: ['sh', record, 'setup'],
        prepare: ['sh', record, 'prepare'],
        conclude: ['sh', record, 'conclude'],
        cleanup: `sh ${record} cleanup`,
        env: { RECORD: file },
      },
      sampling: { warmup: 1, iterations: 2 },
    });
    const result = await workload.run(ctx);
    expect(result.samples.wall_ms).toHaveLength(2);
    expect(result.facts?.loop).toBe('per-run');
    const round = ['prepare', 'run', 'conclude'];
    expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual(['setup', ...round, ...round, ...round, 'cleanup']);
  });

  it('keeps `concurrency` runs in flight, one native helper each', async () => {
    // A rendezvous, not a clock: each run leaves a marker and waits (up to 10 s) until two exist.
    // Run one after another, the first run would wait alone and exit 3.
    const dir = mkdtempSync(join(tmpdir(), 'rigor-concurrency-'));
    const rendezvous = `touch "${dir}/$$"; for i in $(seq 100); do [ "$(ls "${dir}" | wc -l)" -ge 2 ] && exit 0; sleep 0.1; done; exit 3`;
    const { ctx } = testCell({ params: { run: rendezvous }, sampling: { iterations: 4, concurrency: 2 } });
    try {
      const result = await workload.run(ctx);
      expect(result.samples.wall_ms).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a string through sh -c and an argv directly, without a shell', async () => {
    const shell = testCell({ params: { run: 'echo "$((6 * 7))" | tr 4 x', output: 'keep' }, sampling: { iterations: 1 } });
    expect((await workload.run(shell.ctx)).facts?.last_stdout).toBe('x2\n');
    const argv = testCell({ params: { run: ['echo', '$HOME', '|', 'a b'], output: 'keep' }, sampling: { iterations: 1 } });
    expect((await workload.run(argv.ctx)).facts?.last_stdout).toBe('$HOME | a b\n');
  });

  it('keeps only the last 2 KiB of the last run stdout with output keep', async () => {
    const { ctx } = testCell({ params: { run: 'seq 1 2000', output: 'keep' }, sampling: { iterations: 2 } });
    const lastStdout = (await workload.run(ctx)).facts?.last_stdout as string;
    expect(Buffer.byteLength(lastStdout)).toBeLessThanOrEqual(2048);
    expect(lastStdout.endsWith('1999\n2000\n')).toBe(true);
  });

  it('fails the cell on an unexpected exit code with the code and the last 20 lines of stderr, and still cleans up', async () => {
    const file = join(scratch, 'failed.txt');
    const { ctx } = testCell({ params: { run: [fail, '3'], cleanup: ['sh', record, 'cleanup'], env: { RECORD: file } } });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toContain('sample 1:');
    expect(error.message).toContain('exited with code 3, expected exit code 0');
    expect(error.message).toContain('stderr line 11\n');
    expect(error.message).toContain('stderr line 30');
    expect(error.message).not.toContain('stderr line 10\n');
    expect(error.partial?.facts?.spawner).toMatchObject({ kind: 'native' });
    expect(readFileSync(file, 'utf8')).toBe('cleanup\n');
  });

  it("accepts the expected exit code, or any with expect_exit: 'any'", async () => {
    const seven = testCell({ params: { run: 'exit 7', expect_exit: 7 } });
    expect((await workload.run(seven.ctx)).samples.wall_ms).toHaveLength(3);
    const any = testCell({ params: { run: [fail, '9'], expect_exit: 'any' } });
    expect((await workload.run(any.ctx)).samples.wall_ms).toHaveLength(3);
  });

  it('drops the page cache before every run and shows it shrinking (root)', async () => {
    const { ctx } = testCell({ params: { run: ['true'], drop_caches: true }, sampling: { warmup: 1, iterations: 2 } });
    const drops = (await workload.run(ctx)).facts?.cache_drops as Record<string, unknown>;
    expect(drops).toMatchObject({ requested: true, attempted: 3, succeeded: 3, method: '/proc/sys/vm/drop_caches = 3 after sync' });
    expect(drops.failed_reason).toBeUndefined();
    expect(drops.cached_kib_after_median as number).toBeLessThan(drops.cached_kib_before_median as number);
  });

  it('says a dropped-cache cell is not cold when rigor itself maps the program (node), and shows its pages stayed (root)', async () => {
    const node = realpathSync(process.execPath);
    const { ctx } = testCell({ params: { run: [process.execPath, '-e', '0'], drop_caches: true }, sampling: { warmup: 0, iterations: 1 } });
    const facts = (await workload.run(ctx)).facts!;
    expect(facts.cold).toEqual({
      cold: false,
      why: `${node} is mapped by rigor's own process (pid ${process.pid}): drop_caches cannot evict the pages a live process maps, so every run found them cached`,
    });
    const resident = (facts.cache_drops as { resident_after_drop: Record<string, { size_kib: number; resident_kib_median: number }> }).resident_after_drop;
    expect(resident[node]!.resident_kib_median).toBeGreaterThan(0);
    expect(resident[node]!.size_kib).toBeGreaterThan(resident[node]!.resident_kib_median / 2);
  });

  it('calls a dropped-cache cell cold when nothing of rigor maps the program and none of it stayed cached (root)', async () => {
    // A copy of `true` no other process runs; on a tmpfs TMPDIR its pages cannot be dropped, and the cell says so.
    const program = join(mkdtempSync(join(scratch, 'cold-')), 'rigor-true');
    copyFileSync(realpathSync(which('true')!), program);
    chmodSync(program, 0o755);
    const { ctx } = testCell({ params: { run: [program], drop_caches: true }, sampling: { warmup: 0, iterations: 2 } });
    const facts = (await workload.run(ctx)).facts!;
    const resident = (facts.cache_drops as { resident_after_drop: Record<string, { resident_kib_median: number }> }).resident_after_drop;
    expect(Object.keys(resident)).toEqual([program]);
    if (resident[program]!.resident_kib_median === 0) expect(facts.cold).toEqual({ cold: true });
    else expect(facts.cold).toEqual({ cold: false, why: expect.stringMatching(/kB of .*rigor-true stayed in the page cache after the drops/) });
    const warm = await workload.run(testCell({ params: { run: ['true'] }, sampling: { iterations: 1 } }).ctx);
    expect(warm.facts?.cold).toBeUndefined(); // only a cell that drops the cache says whether it is cold
  });

  it('still takes the samples when the drop cannot be written, and says why', async () => {
    const failing = createCommandWorkload({ spawnerBuild: { cacheDir }, cacheDrop: { dropPath: scratch } });
    const { ctx } = testCell({ params: { run: ['true'], drop_caches: true }, sampling: { iterations: 2 } });
    const result = await failing.run(ctx);
    expect(result.samples.wall_ms).toHaveLength(2);
    expect(result.facts?.cache_drops).toMatchObject({
      requested: true,
      attempted: 2,
      succeeded: 0,
      cached_kib_before_median: null,
      cached_kib_after_median: null,
    });
    expect((result.facts?.cache_drops as { failed_reason: string }).failed_reason).toContain('EISDIR');
    expect(result.facts?.cold).toEqual({ cold: false, why: expect.stringMatching(/^no cache drop succeeded \(EISDIR/) });
  });

  it('records cache drops as not requested by default', async () => {
    const { ctx } = testCell({ params: { run: ['true'] }, sampling: { iterations: 1 } });
    expect((await workload.run(ctx)).facts?.cache_drops).toMatchObject({ requested: false, attempted: 0, succeeded: 0 });
  });

  for (const spawner of ['native', 'node'] as const) {
    it(`on interrupt kills the run's whole process group, grandchildren included (${spawner} spawner)`, async () => {
      const pidFile = join(scratch, `family-${spawner}.pid`);
      const cleanupFile = join(scratch, `cleanup-${spawner}.txt`);
      const cell = testCell({
        params: { run: [family, pidFile], spawner, cleanup: ['sh', record, 'cleanup'], env: { RECORD: cleanupFile } },
        sampling: { iterations: 1, timeout_s: 60 },
      });
      const running = workload.run(cell.ctx);
      expect(await waitFor(() => existsSync(pidFile))).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await waitFor(() => groupMembers(pid).length === 3)).toBe(true); // sh + two sleeps
      cell.abort(new Error('interrupted by SIGINT'));
      const result = await running;
      expect(result.truncated).toBe('interrupted');
      expect(result.facts?.spawner).toMatchObject({ kind: spawner });
      expect(isAlive(pid)).toBe(false);
      expect(await waitFor(() => groupMembers(pid).length === 0, 1000)).toBe(true); // SIGKILL lands within moments
      expect(readFileSync(cleanupFile, 'utf8')).toBe('cleanup\n');
    });
  }

  it('fails a run over timeout_s and kills it', async () => {
    const pidFile = join(scratch, 'timeout.pid');
    const { ctx } = testCell({ params: { run: [family, pidFile] }, sampling: { iterations: 2, timeout_s: 0.5 } });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toBe('sample 1 took longer than timeout_s (0.5 s)');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(await waitFor(() => groupMembers(pid).length === 0, 1000)).toBe(true); // SIGKILL lands within moments
  });

  it('times with the node spawner when asked, and says rusage is unavailable there', async () => {
    const { ctx } = testCell({ params: { run: ['true'], spawner: 'node' }, metrics: { wall_ms: {}, user_ms: {} } });
    const result = await workload.run(ctx);
    expect(result.samples.wall_ms).toHaveLength(3);
    expect(result.samples.user_ms).toBeUndefined();
    expect(result.facts?.spawner).toEqual({ kind: 'node', note: 'node: requested' });
    expect(result.facts?.rusage_unavailable).toContain('user_ms');
  });

  it('reports a program that is not there before the first run', async () => {
    const { ctx } = testCell({ params: { run: ['rigor-no-such-program'] } });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error.message).toBe('cannot start rigor-no-such-program: not found as an executable file on PATH');
  });

  for (const spawner of ['native', 'node'] as const) {
    it(`finds the program once where the runs look (their PATH and cwd), execs that path and records it (${spawner} spawner)`, async () => {
      const dir = mkdtempSync(join(scratch, 'exec-path-'));
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'rigor-probe'), '#!/bin/sh\necho "$0"\n', { mode: 0o755 });
      // A relative PATH entry, from the runs' cwd: a spawner searching PATH at exec would run "bin/rigor-probe", if it found it at all.
      const env = { PATH: `bin:${process.env.PATH}` };
      const { ctx } = testCell({ params: { run: ['rigor-probe'], env, cwd: dir, output: 'keep', spawner }, sampling: { warmup: 1, iterations: 2 } });
      const result = await workload.run(ctx);
      const found = which('rigor-probe', { path: env.PATH, cwd: dir });
      expect(found).toBe(join(dir, 'bin', 'rigor-probe'));
      expect(result.facts?.program).toEqual({ argv0: 'rigor-probe', exec_path: found, path: realpathSync(found!), script: '#!/bin/sh' });
      expect(result.facts?.last_stdout).toBe(`${found}\n`); // the kernel hands a script the path it exec'd as $0
    });
  }

  it('checks params, naming each problem', () => {
    expect(workload.validateParams!({ run: ['true'] })).toEqual([]);
    expect(workload.validateParams!({ run: 3, output: 'loud', expect_exit: -1, env: { A: {} }, drop_caches: 'yes', spawner: 'rust', prepare: [] })).toEqual([
      'params.run: expected an argv list of strings or a shell string, found 3',
      'params.prepare: expected an argv list of strings or a shell string, found a list of 0',
      "params.expect_exit: expected an exit code 0-255 or 'any', found -1",
      'params.output: expected one of discard, pipe, keep, found "loud"',
      'params.env.A: expected a string, found a mapping',
      'params.drop_caches: expected true or false, found "yes"',
      'params.spawner: expected native or node, found "rust"',
    ]);
  });

  it('words expect_exit and env alike when the rig is loaded (its params schema) and when the cell checks them', () => {
    const loaded = schemaProblems(workload.paramsSchema!, { run: 'x', expect_exit: 'some', env: { A: {} } }, 'command').map((p) => `params.${p.path.join('.')}: expected ${p.expected}`);
    expect(loaded).toEqual(["params.expect_exit: expected an exit code 0-255 or 'any'", 'params.env.A: expected a string']);
  });

  it('requires argv[0] on PATH, or sh for a shell string', () => {
    expect(workload.requirements!({ run: ['hyperfine', '-N', 'true'] })).toEqual([{ binary: 'hyperfine' }]);
    expect(workload.requirements!({ run: 'true | true' })).toEqual([{ binary: 'sh' }]);
  });

  it('needs a metric with unit ms for wall time, or a source for one', async () => {
    const { ctx } = testCell({ params: { run: ['true'] }, metrics: { rss: { unit: 'MiB' } } });
    await expect(workload.run(ctx)).rejects.toThrow(
      'the command workload needs a metric with unit ms for wall time, or params.metrics saying where to read one, found rss',
    );
  });
});

describe('command workload: metrics read from the run', () => {
  const counted = { kind: 'counted' as const, clock: 'read from the output' };

  it('fills a JSON field, a pattern and a number of stdout, its size and a throughput, in a batch', async () => {
    const { ctx } = testCell({
      params: {
        run: `echo '{"result": {"ratio": 3.1}, "note": "score: 42.5"}'`,
        metrics: {
          ratio: { from: 'stdout', json: 'result.ratio' },
          score: { from: 'stdout', pattern: 'score: ([0-9.]+)' },
          out_bytes: { from: 'output_size' },
          out_kib: { from: 'output_size' },
          throughput: { from: 'throughput', input_bytes: 20_971_520 },
        },
      },
      metrics: {
        wall_ms: {},
        ratio: { unit: 'x', better: 'higher', ...counted },
        score: { unit: 'points', better: 'higher', ...counted },
        out_bytes: { unit: 'bytes', ...counted },
        out_kib: { unit: 'KiB', ...counted },
        throughput: { unit: 'MiB/s', better: 'higher' },
      },
      sampling: { warmup: 1, iterations: 4 },
    });
    const result = await workload.run(ctx);
    expect(result.facts?.loop).toBe('batch');
    expect(result.facts?.output).toBe('all');
    expect(result.samples.ratio).toEqual([3.1, 3.1, 3.1, 3.1]);
    expect(result.samples.score).toEqual([42.5, 42.5, 42.5, 42.5]);
    const line = `{"result": {"ratio": 3.1}, "note": "score: 42.5"}\n`;
    expect(result.samples.out_bytes).toEqual([line.length, line.length, line.length, line.length]);
    expect(result.samples.out_kib![0]).toBeCloseTo(line.length / 1024, 12);
    // Throughput is the declared input over each run's own wall time, in MiB/s.
    result.samples.wall_ms!.forEach((ms, i) => expect(result.samples.throughput![i]).toBeCloseTo(20 / (ms / 1000), 6));
    expect(result.facts?.metric_sources).toEqual({
      ratio: 'field result.ratio of stdout as JSON',
      score: 'the first match of /score: ([0-9.]+)/ in stdout',
      out_bytes: 'bytes of stdout',
      out_kib: 'bytes of stdout',
      throughput: "20971520 input bytes over the run's wall time",
    });
    expect(result.facts?.last_stdout).toBeUndefined();
  });

  it('counts stdout without keeping it when only its size is read', async () => {
    const { ctx } = testCell({
      params: { run: ['seq', '1', '100000'], metrics: { out_bytes: { from: 'output_size' } } },
      metrics: { wall_ms: {}, out_bytes: { unit: 'B', ...counted } },
    });
    const result = await workload.run(ctx);
    expect(result.facts?.output).toBe('keep');
    expect(result.samples.out_bytes).toEqual([588_895, 588_895, 588_895]);
  });

  it('reads a file each run writes, after the run and before conclude, one run at a time', async () => {
    const out = join(scratch, 'sources-out');
    mkdirSync(out, { recursive: true });
    // Each run appends a line and rewrites count.txt, so each sample must be read before the next run.
    const { ctx } = testCell({
      params: {
        run: 'echo x >> lines.txt; wc -l < lines.txt > count.txt; cp lines.txt copy.txt',
        cwd: out,
        conclude: 'echo "{\\"n\\": $(cat count.txt)}" > count.json',
        metrics: { lines: { from: 'file', path: 'count.txt' }, copy_bytes: { from: 'output_size', path: `${out}/copy.txt` } },
      },
      metrics: { wall_ms: {}, lines: { unit: 'lines', ...counted }, copy_bytes: { unit: 'bytes', ...counted } },
      sampling: { warmup: 1, iterations: 3 },
    });
    const result = await workload.run(ctx);
    expect(result.facts?.loop).toBe('per-run');
    expect(result.samples.lines).toEqual([2, 3, 4]);
    expect(result.samples.copy_bytes).toEqual([4, 6, 8]);
  });

  it('fails the cell naming the metric and the run when a run did not produce the value', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ from: 'stdout', json: 'ratio' }, `echo '{"rate": 2}'`, /^sample 1: metric ratio \(field ratio of stdout as JSON\): stdout has no field "ratio" \(its fields: rate\)$/],
      [{ from: 'stdout', json: 'ratio' }, 'echo not json', /^sample 1: metric ratio \(field ratio of stdout as JSON\): stdout is not one JSON document; its last lines:\nnot json$/],
      [{ from: 'stdout', json: 'ratio' }, `echo '{"ratio": "3.1"}'`, /^sample 1: metric ratio \(.*\): field ratio of stdout is "3.1", not a number$/],
      [{ from: 'stdout', pattern: 'ratio=([0-9.]+)' }, 'echo ratio=n/a', /^sample 1: metric ratio \(the first match of .*\): stdout has no match for \/ratio=\(\[0-9.\]\+\)\/; its last lines:\nratio=n\/a$/],
      [{ from: 'file', path: 'no-such-file.txt' }, 'true', /^sample 1: metric ratio \(file no-such-file.txt as a number\): cannot read file no-such-file.txt \(.*\/no-such-file.txt\): ENOENT$/],
    ];
    for (const [source, run, message] of cases) {
      const { ctx } = testCell({ params: { run, cwd: scratch, metrics: { ratio: source } }, metrics: { wall_ms: {}, ratio: { unit: 'x', ...counted } }, sampling: { iterations: 3 } });
      const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
      expect(error).toBeInstanceOf(WorkloadError);
      expect(error.message).toMatch(message);
    }
  });

  it('in a batch, fails at the run whose stdout lacks the value, keeping the samples before it', async () => {
    const count = join(scratch, 'missing-value.count');
    // The first three runs (a warmup, samples 1 and 2) print the value; the fourth (sample 3) does not.
    const script = `n=$(($(cat ${count} 2>/dev/null || echo 0) + 1)); echo $n > ${count}; [ $n -le 3 ] && echo v=7; true`;
    const { ctx } = testCell({
      params: { run: script, metrics: { v: { from: 'stdout', pattern: 'v=(\\d+)' } } },
      metrics: { wall_ms: {}, v: { unit: 'x', ...counted } },
      sampling: { warmup: 1, iterations: 10 },
    });
    const error = (await workload.run(ctx).catch((e: unknown) => e)) as WorkloadError;
    expect(error.message).toMatch(/^sample 3: metric v \(.*\): stdout has no match for/);
    expect(error.partial?.samples.v).toEqual([7, 7]);
    expect(error.partial?.samples.wall_ms).toHaveLength(2);
  });

  it('refuses a source for a metric the rig does not declare, and a unit it cannot fill', async () => {
    const { ctx } = testCell({
      params: { run: 'true', metrics: { ratoi: { from: 'stdout' }, size: { from: 'output_size' } } },
      metrics: { wall_ms: {}, ratio: { unit: 'x' }, size: { unit: 'lines' } },
    });
    await expect(workload.run(ctx)).rejects.toThrow(
      'params.metrics.ratoi: expected a metric the rig declares (wall_ms, ratio, size; did you mean "ratio"?), found "ratoi"\n' +
        'metrics.size: expected a size unit for an output_size (B, byte, bytes, kB, KB, KiB, MB, MiB, GB, GiB), found a metric in lines',
    );
  });

  it('refuses a file source with runs in flight at once', async () => {
    const { ctx } = testCell({
      params: { run: 'true', metrics: { n: { from: 'file', path: 'n.txt' } } },
      metrics: { wall_ms: {}, n: { unit: 'x' } },
      sampling: { concurrency: 2 },
    });
    await expect(workload.run(ctx)).rejects.toThrow('params.metrics.n reads a file the run writes: expected concurrency 1 (runs in flight at once would write the same file), found 2');
  });

  it('gives every command of the cell the run scratch directory as RIGOR_SCRATCH', async () => {
    const dir = mkdtempSync(join(scratch, 'run-scratch-'));
    const { ctx } = testCell({
      params: { setup: 'echo setup > "$RIGOR_SCRATCH/setup"', run: 'cat "$RIGOR_SCRATCH/setup"', output: 'keep', cleanup: 'echo cleanup > "$RIGOR_SCRATCH/cleanup"' },
      sampling: { iterations: 1 },
    });
    const result = await workload.run({ ...ctx, scratch: dir });
    expect(result.facts?.last_stdout).toBe('setup\n');
    expect(readFileSync(join(dir, 'cleanup'), 'utf8')).toBe('cleanup\n');
  });
});
