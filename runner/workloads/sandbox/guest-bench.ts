/**
 * `sandbox.guest-bench`: the in-sandbox benchmark tool (guest-bench/) run
 * through the agent of one sandbox per cell. The static binary is written
 * into the sandbox's workspace, so it runs the same on every backend (a
 * busybox rootfs or a qemu guest has no libc to lean on). Each sample is one
 * whole run; the rig's metrics are each run's summary numbers and every
 * run's full report (per-op samples included) is kept in the cell's facts.
 *
 * Network: a loopback HTTP upstream (plain: the tool speaks no TLS) behind
 * our proxy (tunnel mode, allow all). bwrap, runc and qemu reach it only
 * through their egress path (spec.egress); the process backend shares the
 * host's network and is given the proxy's loopback port. A backend with no
 * egress path has its http and throughput sections skipped, and said so.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestBenchPath } from '../../../guest-bench/build.ts';
import { GuestBenchReport } from '../../../guest-bench/schema.ts';
import { EGRESS_ADDRESSES, type EgressBackend } from '../../../sandbox-core/backends/egress-env.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import { startProxy, type RunningProxy } from '../../../sandbox-core/proxy/index.ts';
import { z } from 'zod';
import { sampleLoop, type SampleValues } from '../../sampling/loop.ts';
import { startLoopbackUpstream, type LoopbackUpstream } from '../../loopback/upstream.ts';
import { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../../contract/workload.ts';
import { failuresAsWorkloadErrors } from './as-workload-error.ts';
import { teardown } from './teardown.ts';
import { backendSkipReason, backendUsesKvm, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from './backend-param.ts';
import { wholeNumber } from '../param-checks.ts';

/** Sizes and counts the rig may set, with the defaults the tool is run with. */
const NUMBER_PARAMS = { disk_mib: 64, random_ops: 256, max_walk: 20_000, small_files: 1000, startup_runs: 20, requests: 200, concurrency: 8, download_mib: 32 } as const;
type NumberParam = keyof typeof NUMBER_PARAMS;
const CACHE_DROPS = ['auto', 'fadvise', 'none'] as const;
const NETWORKED: readonly string[] = ['process', ...Object.keys(EGRESS_ADDRESSES)];

export const guestBenchWorkload: Workload = {
  name: 'sandbox.guest-bench',
  description: 'guest-bench (disk, rootfs, startup, http, throughput) run inside one sandbox per cell (params.backend)',
  paramsSchema: sandboxParams().extend({
    ...Object.fromEntries(Object.keys(NUMBER_PARAMS).map((name) => [name, wholeNumber().optional()])),
    cache_drop: z.enum(CACHE_DROPS).optional(),
    walk_root: z.string({ error: 'an absolute path' }).startsWith('/', { error: 'an absolute path' }).optional(),
  }),
  validateParams: variantProblems,
  skipReason: backendSkipReason,
  usesKvm: backendUsesKvm,
  run: runGuestBench,
};

function numberParam(params: Record<string, unknown>, name: NumberParam): number {
  return (params[name] as number | undefined) ?? NUMBER_PARAMS[name];
}

async function runGuestBench(ctx: CellContext): Promise<WorkloadResult> {
  const backend = String(ctx.params.backend);
  const networked = NETWORKED.includes(backend);
  const dir = await mkdtemp(join(tmpdir(), 'rigor-guest-bench-'));
  await chmod(dir, 0o711); // sandboxes run as unprivileged uids: they must reach the sockets in here
  let upstream: LoopbackUpstream | undefined;
  let proxy: RunningProxy | undefined;
  let sandbox: Sandbox | undefined;
  try {
    const proxySocket = join(dir, 'proxy.sock');
    if (networked) {
      upstream = await startLoopbackUpstream({ tls: false });
      proxy = await startProxy({ mode: 'tunnel', ...(backend === 'process' ? {} : { socketPath: proxySocket }) });
    }
    const egress = networked && backend !== 'process' ? { egress: { proxySocket } } : {};
    sandbox = await (await preparedBackend(ctx)).create({ ...specOf(ctx.params), ...egress }, { signal: ctx.signal });
    const box = sandbox;
    await box.writeFile('guest-bench', await readFile(await guestBenchPath()), 0o755);

    const downloadMib = numberParam(ctx.params, 'download_mib');
    const argv = ['./guest-bench', '--cache-drop', String(ctx.params.cache_drop ?? 'fadvise')];
    for (const name of ['disk_mib', 'random_ops', 'max_walk', 'small_files', 'startup_runs'] as const) argv.push(`--${name.replace('_', '-')}`, String(numberParam(ctx.params, name)));
    if (typeof ctx.params.walk_root === 'string') argv.push('--walk-root', ctx.params.walk_root);
    let skipped: Record<string, string> = {};
    if (upstream && proxy) {
      const proxyAddress = backend === 'process' ? { host: '127.0.0.1', port: proxy.port } : EGRESS_ADDRESSES[backend as EgressBackend].proxy;
      argv.push(
        ...['--proxy', `${proxyAddress.host}:${proxyAddress.port}`],
        ...['--http-url', `http://127.0.0.1:${upstream.port}/small`, '--requests', String(numberParam(ctx.params, 'requests')), '--concurrency', String(numberParam(ctx.params, 'concurrency'))],
        ...['--download-url', `http://127.0.0.1:${upstream.port}/big?bytes=${downloadMib * 1024 * 1024}`, '--download-mib', String(downloadMib)],
      );
    } else {
      argv.push('--sections', 'disk,rootfs,startup');
      const why = `the ${backend} backend gives a sandbox no egress path (network: loopback only)`;
      skipped = { http: why, throughput: why };
    }

    const reports: GuestBenchReport[] = [];
    const once = async (): Promise<SampleValues> => {
      const result = await box.exec({ argv, timeoutMs: ctx.sampling.timeout_s * 1000 });
      const stdout = result.stdout.toString('utf8');
      if (result.exitCode !== 0 && !(result.exitCode === 3 && stdout.startsWith('{'))) {
        throw new Error(`${argv.join(' ')} exited ${result.exitCode ?? result.signal}: ${result.stderr.toString('utf8').slice(-500)}`);
      }
      const report = GuestBenchReport.parse(JSON.parse(stdout));
      reports.push(report);
      return metricsOf(report);
    };
    const result = await sampleLoop(ctx, failuresAsWorkloadErrors(once));
    const last = reports.at(-1);
    return {
      ...result,
      facts: {
        ...sandboxFacts(box),
        argv,
        guest_bench_build: last?.build,
        system: last?.system,
        cache_drop: last && 'cache_drop' in last.sections.disk ? last.sections.disk.cache_drop : undefined,
        skipped_sections: skipped,
        ...(proxy ? { proxy: proxy.stats() } : {}),
        reports,
      },
    };
  } finally {
    await teardown([() => sandbox?.destroy(), () => proxy?.close(), () => upstream?.close(), () => rm(dir, { recursive: true, force: true })]);
  }
}

/** One run's summary numbers; a section that failed fails the cell, naming it. */
export function metricsOf(report: GuestBenchReport): SampleValues {
  const values: SampleValues = {};
  for (const [name, section] of Object.entries(report.sections)) {
    if ('error' in section) throw new WorkloadError(`guest-bench section ${name} failed: ${section.error}`);
  }
  const { disk, rootfs, startup, http, throughput } = report.sections;
  if ('seq_write' in disk) {
    values.disk_write_mib_s = disk.seq_write.mib_per_s;
    values.disk_read_mib_s = disk.seq_read.mib_per_s;
    values.disk_rand_write_p50_ms = disk.random_write.p50;
    values.disk_rand_read_p50_ms = disk.random_read.p50;
  }
  if ('walk' in rootfs) {
    values.rootfs_walk_entries_s = rootfs.walk.entries_per_s;
    // No small file met is no measurement, not a rate of 0.
    if (rootfs.small_files.files > 0) values.rootfs_small_files_s = rootfs.small_files.files_per_s;
    if (rootfs.large_file && 'mib_per_s' in rootfs.large_file) values.rootfs_large_mib_s = rootfs.large_file.mib_per_s;
  }
  if ('commands' in startup) {
    const shell = startup.commands.find((command) => command.argv[0] === '/bin/sh');
    if (shell) values.startup_sh_p50_ms = shell.p50;
  }
  if ('p50' in http) {
    if (http.errors > 0) throw new WorkloadError(`guest-bench http: ${http.errors} of ${http.requests} requests failed: ${http.first_error}`);
    const other = Object.keys(http.status_counts).filter((status) => status !== '200');
    if (other.length > 0) throw new WorkloadError(`guest-bench http: answers other than 200: ${JSON.stringify(http.status_counts)}`);
    values.http_p50_ms = http.p50;
    values.http_requests_s = http.requests_per_s;
  }
  if ('mib_per_s' in throughput) values.download_mib_s = throughput.mib_per_s;
  return values;
}
