/** The `backend` param every sandbox workload takes, and the spec built from the cell's params. */
import { describeFound } from '../../../base/errors.ts';
import { backendNames, getBackend } from '../../../sandbox-core/backends/registry.ts';
import type { Backend, Sandbox, SandboxSpec } from '../../../sandbox-core/backends/types.ts';
import { GUEST_KERNELS, QemuBackend, type GuestKernel } from '../../../sandbox-core/backends/qemu.ts';
import type { Machine } from '../../../sandbox-core/backends/qemu/qemu-args.ts';
import { argvProblems, wholeNumberProblems } from '../param-checks.ts';

/** Params that choose how a qemu guest boots; each value makes a backend of its own (one image cache each). */
const QEMU_PARAMS = ['kernel', 'machine', 'cmdline'] as const;
const MACHINES = ['microvm', 'pc'];

export function backendProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const qemuParams = QEMU_PARAMS.filter((name) => params[name] !== undefined);
  if (qemuParams.length > 0 && params.backend !== 'qemu') {
    problems.push(`params.${qemuParams[0]}: only the qemu backend boots a kernel, found backend ${describeFound(params.backend)}`);
  }
  if (params.kernel !== undefined && !GUEST_KERNELS.includes(params.kernel as GuestKernel)) {
    problems.push(`params.kernel: expected one of ${GUEST_KERNELS.join(', ')}, found ${describeFound(params.kernel)}`);
  }
  if (params.machine !== undefined && !MACHINES.includes(params.machine as string)) {
    problems.push(`params.machine: expected one of ${MACHINES.join(', ')}, found ${describeFound(params.machine)}`);
  }
  if (params.cmdline !== undefined && !(typeof params.cmdline === 'string' && /^[a-z0-9-]+$/.test(params.cmdline))) {
    problems.push(`params.cmdline: expected the name of a preset in kernel/cmdline (like best), found ${describeFound(params.cmdline)}`);
  }
  if (typeof params.backend !== 'string' || !backendNames.includes(params.backend)) {
    problems.push(`params.backend: expected one of ${backendNames.join(', ')}, found ${describeFound(params.backend)}`);
  }
  if (params.agent !== undefined && params.agent !== 'native' && params.agent !== 'node') {
    problems.push(`params.agent: expected native or node, found ${describeFound(params.agent)}`);
  }
  if (params.seccomp !== undefined && params.seccomp !== 'default' && params.seccomp !== 'unconfined') {
    problems.push(`params.seccomp: expected default or unconfined, found ${describeFound(params.seccomp)}`);
  }
  problems.push(...wholeNumberProblems(params, 'memory_mib', { unit: 'MiB' }));
  return problems;
}

const qemuBackends = new Map<string, Backend>();

export function backendOf(params: Record<string, unknown>): Backend {
  if (params.backend === 'qemu' && QEMU_PARAMS.some((name) => params[name] !== undefined)) {
    const options = { kernel: params.kernel as GuestKernel | undefined, machine: params.machine as Machine | undefined, cmdline: params.cmdline as string | undefined };
    const key = JSON.stringify(options);
    let backend = qemuBackends.get(key);
    if (!backend) qemuBackends.set(key, (backend = new QemuBackend(options)));
    return backend;
  }
  return getBackend(String(params.backend));
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

/** A backend that cannot run here makes the cell `skipped` with its own reason. */
export async function backendSkipReason(params: Record<string, unknown>): Promise<string | null> {
  const availability = await backendOf(params).available();
  return availability.ok ? null : `backend ${String(params.backend)} unavailable: ${availability.reason}`;
}

export function specOf(params: Record<string, unknown>): SandboxSpec {
  return {
    ...(params.agent ? { agent: params.agent as 'native' | 'node' } : {}),
    ...(params.memory_mib ? { memoryMiB: params.memory_mib as number } : {}),
    ...(params.seccomp ? { seccomp: params.seccomp as 'default' | 'unconfined' } : {}),
    ...(params.ready_timeout_s ? { readyTimeoutMs: (params.ready_timeout_s as number) * 1000 } : {}),
  };
}

/** What an artifact should say about the sandboxes a cell used: accel (qemu), agent kind, boot stages of one. */
export function sandboxFacts(sandbox: Sandbox): Record<string, unknown> {
  const extra = sandbox as unknown as { accel?: string; agentKind?: string; guest?: Record<string, unknown> };
  return {
    backend: sandbox.backend,
    ...(extra.accel ? { accel: extra.accel } : {}),
    ...(extra.guest ? { guest: extra.guest } : {}),
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

/** The cell's `params.command`, or the workload's default. */
export function commandOf(params: Record<string, unknown>, fallback: string[]): string[] {
  return (params.command as string[] | undefined) ?? fallback;
}

export function commandProblems(params: Record<string, unknown>): string[] {
  return argvProblems(params, 'command');
}
