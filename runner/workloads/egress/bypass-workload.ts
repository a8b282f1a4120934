/**
 * `egress.bypass`: the egress-bypass battery (battery.ts) as a rig cell —
 * from the host straight to the proxy (`backend: host`, tunnel or intercept
 * mode) or from inside a sandbox with egress (its agent's relay, or qemu's
 * guest network), one whole battery per sample, each sample with its own
 * seed (the cell's seed + the sample's index, recorded). Metrics per class:
 * `bypasses_<class>` (goal 0) and `attempts_<class>`. A battery whose
 * legitimate controls were not served measured nothing and fails the cell.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { guestBenchPath } from '../../../guest-bench/build.ts';
import { GuestBenchProbe } from '../../../guest-bench/schema.ts';
import { EGRESS_ADDRESSES, type EgressBackend } from '../../../sandbox-core/backends/egress-env.ts';
import type { Sandbox } from '../../../sandbox-core/backends/types.ts';
import type { CellContext, Workload, WorkloadResult } from '../../contract/workload.ts';
import { WorkloadError } from '../../contract/workload.ts';
import { wholeNumber } from '../param-checks.ts';
import { backendSkipReason, backendUsesKvm, preparedBackend, sandboxFacts, sandboxParams, specOf, variantProblems } from '../sandbox/backend-param.ts';
import { runBattery, hostSender, type BatterySender, type BatteryResult } from './battery.ts';
import { BYPASS_CLASSES, type BypassClass } from './bypass-variants.ts';

const EGRESS_BACKENDS = Object.keys(EGRESS_ADDRESSES) as EgressBackend[];
/** Files per guest-bench probe raw run: the argv stays short, a batch stays within one exec's timeout. */
const BATCH = 100;

/** `fail-open` → `fail_open`: metric names are identifiers. */
export function metricSuffix(cls: BypassClass): string {
  return cls.replace('-', '_');
}

const paramsSchema = sandboxParams(['host', ...EGRESS_BACKENDS]).extend({
  mode: z.enum(['tunnel', 'intercept']),
  variants: wholeNumber().optional(),
  seed: wholeNumber({ least: 0 }).optional(),
});

export const bypassWorkload: Workload = {
  name: 'egress.bypass',
  description: 'the egress-bypass battery: generated attacks of each class through the real egress path, from the host or inside a sandbox; bypasses counted by what the far side and the audit saw (params.backend: host or a backend with egress, params.mode)',
  paramsSchema,
  validateParams: (params) => (params.backend === 'host' ? [] : variantProblems(params)),
  skipReason: (params) => (params.backend === 'host' ? Promise.resolve(null) : backendSkipReason(params)),
  usesKvm: (params) => params.backend !== 'host' && backendUsesKvm(params),
  cannotFill: (metric) => (metric.kind === 'counted' ? null : 'a counted metric (kind: counted): the battery counts bypasses and attempts; it times nothing'),
  run: runBypass,
};

async function runBypass(ctx: CellContext): Promise<WorkloadResult> {
  const backend = ctx.params.backend as 'host' | EgressBackend;
  const mode = ctx.params.mode as 'tunnel' | 'intercept';
  const variants = (ctx.params.variants as number | undefined) ?? 100;
  const baseSeed = (ctx.params.seed as number | undefined) ?? 1;
  const classes = BYPASS_CLASSES.filter((cls) => backend !== 'host' || cls !== 'host-socket');
  const samples: Record<string, number[]> = {};
  const runs: Array<{ seed: number } & BatteryResult> = [];
  let facts: Record<string, unknown> = {};
  const total = ctx.sampling.warmup + ctx.sampling.iterations;
  for (let index = 0; index < total; index++) {
    if (ctx.signal.aborted) break;
    const seed = baseSeed + index;
    let sandboxFactsOf: Record<string, unknown> | undefined;
    const result = await runBattery({
      classes,
      mode,
      variants,
      seed,
      sender: async ({ proxyPort, proxySocket, dnsSocket, egress }) => {
        if (backend === 'host') return hostSender(proxyPort);
        const sandbox = await (await preparedBackend(ctx)).create(
          {
            ...specOf(ctx.params),
            egress: { proxySocket, dnsSocket, onRelayRefused: (record) => egress.audit.record({ ...record, sandbox: 'bypass-battery' }) },
          },
          { signal: ctx.signal },
        );
        sandboxFactsOf = sandboxFacts(sandbox);
        return sandboxSender(sandbox, backend, ctx.sampling.timeout_s * 1000);
      },
    });
    if (!result.armed) {
      throw new WorkloadError(`seed ${seed}: the battery's legitimate controls were not served, so it could not have seen a bypass (is ${'127.0.0.2'} reachable?)`, { samples, facts: { runs } });
    }
    runs.push({ seed, ...result });
    if (sandboxFactsOf) facts = sandboxFactsOf;
    if (index < ctx.sampling.warmup) continue;
    for (const cls of classes) {
      const outcome = result.byClass[cls];
      if (!outcome || outcome.attempts === 0) continue;
      (samples[`bypasses_${metricSuffix(cls)}`] ??= []).push(outcome.bypasses);
      (samples[`attempts_${metricSuffix(cls)}`] ??= []).push(outcome.attempts);
    }
    ctx.log(`seed ${seed}: ${classes.map((cls) => `${cls} ${result.byClass[cls]?.bypasses ?? 0}/${result.byClass[cls]?.attempts ?? 0}`).join(', ')}`);
  }
  return { samples, facts: { ...facts, mode, variants_per_class: variants, runs } };
}

/** From inside a sandbox: the request bytes written into its workspace and sent by guest-bench's raw probe; sockets tried by its unix probe. */
async function sandboxSender(sandbox: Sandbox, backend: EgressBackend, timeoutMs: number): Promise<BatterySender & { close(): Promise<void> }> {
  await sandbox.writeFile('guest-bench', await readFile(await guestBenchPath()), 0o755);
  const proxy = EGRESS_ADDRESSES[backend].proxy;
  const probe = async (argv: string[]): Promise<GuestBenchProbe> => {
    const result = await sandbox.exec({ argv: ['./guest-bench', 'probe', ...argv], timeoutMs });
    if (result.exitCode !== 0) throw new Error(`guest-bench probe ${argv[0]} exited ${result.exitCode}: ${result.stderr.toString('utf8').slice(-500)}`);
    return GuestBenchProbe.parse(JSON.parse(result.stdout.toString('utf8')));
  };
  return {
    async sendRaw(list) {
      for (let at = 0; at < list.length; at += BATCH) {
        const batch = list.slice(at, at + BATCH);
        for (const { id, bytes } of batch) await sandbox.writeFile(`req-${id}`, bytes);
        await probe(['raw', `${proxy.host}:${proxy.port}`, ...batch.map(({ id }) => `req-${id}`), '--timeout-ms', '3000']);
      }
    },
    async tryUnix(paths) {
      const report = await probe(['unix', ...paths]);
      if (report.probe !== 'unix') throw new Error(`guest-bench probe unix printed a ${report.probe} report`);
      return report.sockets.map((socket) => socket.connected);
    },
    close: () => sandbox.destroy(),
  };
}
