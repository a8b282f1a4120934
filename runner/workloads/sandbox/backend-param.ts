/** The `backend` param every sandbox workload takes, and the spec built from the cell's params. */
import { describeFound } from '../../../base/errors.ts';
import { backendFor, backendNames, getBackend, variantOptionOwners } from '../../../sandbox-core/backends/registry.ts';
import type { Backend, Sandbox, SandboxSpec } from '../../../sandbox-core/backends/types.ts';
import { z } from 'zod';
import { wholeNumber } from '../param-checks.ts';

/** The cell's params that configure its backend (qemu: kernel, machine, cmdline), as the backends declare them. */
function variantParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...variantOptionOwners().keys()].filter((name) => params[name] !== undefined).map((name) => [name, params[name]]));
}

/** The params every sandbox workload takes: the backend, the options of its variants (qemu: kernel, machine, cmdline) and the spec's (specOf). */
export function sandboxParams(backends: readonly string[] = backendNames) {
  const variants = Object.fromEntries([...variantOptionOwners().keys()].map((name) => [name, z.unknown().optional()]));
  return z.strictObject({
    backend: z.enum(backends as [string, ...string[]]),
    agent: z.enum(['native', 'node']).optional(),
    seccomp: z.enum(['default', 'unconfined']).optional(),
    memory_mib: wholeNumber({ unit: 'MiB' }).optional(),
    ready_timeout_s: z.number().gt(0).optional(),
    ...variants,
  });
}

/** What the schema cannot say: a variant option is one the cell's backend takes, with a value it takes. */
export function variantProblems(params: Record<string, unknown>): string[] {
  if (!backendNames.includes(params.backend as string)) return []; // the schema says what backend must be
  const problems: string[] = [];
  const backend = getBackend(params.backend as string);
  const variant = variantParams(params);
  for (const [name, value] of Object.entries(variant)) {
    if (!backend.variantOptions?.includes(name)) {
      const takers = variantOptionOwners().get(name)!;
      problems.push(`params.${name}: expected nothing with backend ${describeFound(params.backend)} (only ${takers.join(', ')} take${takers.length === 1 ? 's' : ''} ${name}), found ${describeFound(value)}`);
    }
  }
  const own = Object.fromEntries(Object.entries(variant).filter(([name]) => backend.variantOptions?.includes(name)));
  for (const problem of backend.variantProblems?.(own) ?? []) problems.push(`params.${problem}`);
  return problems;
}

export function backendOf(params: Record<string, unknown>): Backend {
  return backendFor(String(params.backend), variantParams(params));
}

/**
 * The cell's backend with what its create() needs already built (a guest
 * kernel takes minutes the first time): that work stays out of the samples
 * and their timeouts. The cell's signal stops it.
 */
export async function preparedBackend(ctx: { params: Record<string, unknown>; signal: AbortSignal; log(message: string): void }): Promise<Backend> {
  const backend = backendOf(ctx.params);
  if (backend.prepare) {
    ctx.log(`preparing the ${backend.name} backend (a guest kernel build takes minutes the first time)`);
    await backend.prepare(ctx.signal);
  }
  return backend;
}

/** The cell's backend starts guests under KVM (qemu, firecracker); false for a backend name that is not one (its params problem says so). */
export function backendUsesKvm(params: Record<string, unknown>): boolean {
  return typeof params.backend === 'string' && backendNames.includes(params.backend) && getBackend(params.backend).usesKvm === true;
}

/** A backend that cannot run here makes the cell `skipped` with its own reason. */
export async function backendSkipReason(params: Record<string, unknown>): Promise<string | null> {
  const availability = await backendOf(params).available();
  return availability.ok ? null : `backend ${String(params.backend)} unavailable: ${availability.reason}`;
}

/** What a workload may need of a backend beyond create(): the methods, their support check on this host, and how a skip says so. */
const CAPABILITIES = {
  snapshot: { has: (backend: Backend) => Boolean(backend.restore && backend.snapshotSupport), missing: 'has no snapshot/restore', support: (backend: Backend) => backend.snapshotSupport!(), refused: 'cannot snapshot here' },
  fork: { has: (backend: Backend) => Boolean(backend.fromFork && backend.forkSupport), missing: 'has no fork', support: (backend: Backend) => backend.forkSupport!(), refused: 'cannot fork here' },
};

/** backendSkipReason, then the capability the workload needs: a backend without it, or whose support check refuses it here, skips the cell saying which. */
export async function capabilitySkipReason(params: Record<string, unknown>, capability: keyof typeof CAPABILITIES, consequence = ''): Promise<string | null> {
  const unavailable = await backendSkipReason(params);
  if (unavailable) return unavailable;
  const backend = backendOf(params);
  const { has, missing, support, refused } = CAPABILITIES[capability];
  if (!has(backend)) return `backend ${backend.name} ${missing}${consequence}`;
  const supported = await support(backend);
  return supported.ok ? null : `backend ${backend.name} ${refused}: ${supported.reason}`;
}

export function specOf(params: Record<string, unknown>): SandboxSpec {
  return {
    ...(params.agent ? { agent: params.agent as 'native' | 'node' } : {}),
    ...(params.memory_mib ? { memoryMiB: params.memory_mib as number } : {}),
    ...(params.seccomp ? { seccomp: params.seccomp as 'default' | 'unconfined' } : {}),
    ...(params.ready_timeout_s ? { readyTimeoutMs: (params.ready_timeout_s as number) * 1000 } : {}),
  };
}

/** What an artifact should say about the sandboxes a cell used: the backend's own facts (qemu: accel, guest), isolation, boot stages of one. */
export function sandboxFacts(sandbox: Sandbox): Record<string, unknown> {
  return {
    backend: sandbox.backend,
    ...sandbox.facts,
    ...(sandbox.isolation ? { isolation: sandbox.isolation } : {}),
    boot_stages_ms: Object.fromEntries(sandbox.bootStages.map((stage) => [stage.name, stage.ms])),
  };
}

/** Commands must behave: a wrong exit code or output fails the cell rather than timing an error path. */
export function checkExec(argv: string[], result: { exitCode: number | null; stdout: Buffer; stderr: Buffer }, expectStdout?: string): void {
  if (result.exitCode !== 0) {
    throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr.toString('utf8').slice(-500)}`);
  }
  if (expectStdout !== undefined && result.stdout.toString('utf8') !== expectStdout) {
    throw new Error(`${argv.join(' ')} printed ${JSON.stringify(result.stdout.toString('utf8').slice(0, 200))}, expected ${JSON.stringify(expectStdout)}`);
  }
}

/** The cell's `params.command` (an argv, see Argv), or the workload's default. */
export function commandOf(params: Record<string, unknown>, fallback: string[]): string[] {
  return (params.command as string[] | undefined) ?? fallback;
}
