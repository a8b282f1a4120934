/**
 * The escape battery: every attempt of attempts.ts run from inside one
 * sandbox, with a second sandbox of the same backend beside it (the
 * neighbour whose workspace and processes are attacked) and the host's
 * targets (targets.ts) set up around them. Each attempt says whether it
 * escaped, judged on the host where it can be (a host file unchanged, a host
 * process running, a server that accepted nothing, a neighbour answering).
 * Shared by isolation/escape.test.ts (each attempt must fail on every
 * isolating backend) and the `escapes` rig (counts per category).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cachedCBuild } from '../../../base/build-cache.ts';
import { guestBenchPath } from '../../../guest-bench/build.ts';
import type { Backend, Sandbox, SandboxSpec } from '../../backends/types.ts';
import { startHostTargets, type HostTargets } from './targets.ts';

export const ESCAPE_CATEGORIES = ['host_files', 'host_processes', 'network', 'capabilities', 'ca_key', 'other_sandbox', 'sysctls', 'agent_channel'] as const;
export type EscapeCategory = (typeof ESCAPE_CATEGORIES)[number];

/**
 * Whose kernel the commands talk to: the host's behind namespaces (bwrap, runc, docker and podman under runc), gVisor's
 * Sentry (gvisor, docker and podman under runsc), a VM guest's own (qemu, firecracker), or nobody's but the host's
 * with nothing around them (`process`, the battery's control).
 */
export type Confinement = 'namespaces' | 'sentry' | 'guest' | 'none';

export function confinementOf(backend: string, runtime?: string): Confinement {
  if (backend === 'process') return 'none';
  if (backend === 'qemu' || backend === 'firecracker') return 'guest';
  if (backend === 'gvisor' || runtime === 'runsc') return 'sentry';
  return 'namespaces';
}

export interface Shell {
  code: number | null;
  out: string;
  err: string;
}

/** What an attempt works with: the attacking sandbox, its neighbour, the host's targets. */
export interface AttemptContext {
  sandbox: Sandbox;
  neighbour: Sandbox;
  targets: HostTargets;
  confinement: Confinement;
  /** `sh -c script` inside the attacking sandbox, in its workspace (where guest-bench, escape-probe and NEIGHBOUR_FILE's name are). */
  sh(script: string): Promise<Shell>;
}

export interface Verdict {
  escaped: boolean;
  /** What the host (or the command's output) showed: why it counts as an escape, or that it was refused. */
  evidence: string;
}

export interface EscapeAttempt {
  name: string;
  category: EscapeCategory;
  /** What it tries, one line, for the report and the test's name. */
  tries: string;
  /**
   * Harmless on a host with no isolation at all: the `process` control runs it as host root and it must
   * escape there (the judge can see an escape). An attempt that is not would really attack the host
   * (core_pattern, sysctls, the host's loopback link, killing every process) and is not tried on the control.
   */
  control: boolean;
  /** Why it does not apply to commands under `confinement`, or null when it does. */
  notApplicable?(confinement: Confinement, targets: HostTargets): string | null;
  run(ctx: AttemptContext): Promise<Verdict>;
}

export interface AttemptOutcome {
  name: string;
  category: EscapeCategory;
  /** null: not tried here, `reason` says why. */
  escaped: boolean | null;
  evidence: string;
}

/** The file the neighbour holds in its workspace (its content is the targets' token). */
export const NEIGHBOUR_FILE = 'neighbour-secret';

const PROBE_SOURCE = fileURLToPath(new URL('escape-probe.c', import.meta.url));

/** The static escape-probe (escape-probe.c), built once into the cache. */
export async function escapeProbePath(): Promise<string> {
  const { path } = await cachedCBuild({ kind: 'escape-probe', sources: [PROBE_SOURCE], flags: ['-static', '-O2', '-std=c99', '-Wall', '-Wextra'], fileName: 'escape-probe' });
  return path;
}

export interface EscapeSession {
  readonly confinement: Confinement;
  readonly targets: HostTargets;
  readonly sandbox: Sandbox;
  readonly neighbour: Sandbox;
  /** One attempt; on the control only `control` attempts are tried. A throw from the attempt itself propagates. */
  run(attempt: EscapeAttempt): Promise<AttemptOutcome>;
  close(): Promise<void>;
}

/** Two sandboxes of `backend` and the host's targets; close() destroys and removes all of it (also when opening fails). */
export async function openEscapeSession(backend: Backend, confinement: Confinement, spec: SandboxSpec = {}, options: { signal?: AbortSignal; execTimeoutMs?: number } = {}): Promise<EscapeSession> {
  const made: { targets?: HostTargets; sandbox?: Sandbox; neighbour?: Sandbox } = {};
  const close = async () => {
    await Promise.allSettled([made.sandbox?.destroy(), made.neighbour?.destroy()]);
    await made.targets?.close();
  };
  try {
    const [guestBench, probe] = await Promise.all([guestBenchPath().then((path) => readFile(path)), escapeProbePath().then((path) => readFile(path))]);
    made.targets = await startHostTargets();
    made.sandbox = await backend.create(spec, { signal: options.signal });
    made.neighbour = await backend.create(spec, { signal: options.signal });
    await made.sandbox.writeFile('guest-bench', guestBench, 0o755);
    await made.sandbox.writeFile('escape-probe', probe, 0o755);
    await made.neighbour.writeFile(NEIGHBOUR_FILE, `${made.targets.token}\n`);
  } catch (error) {
    await close();
    throw error;
  }
  const { targets, sandbox, neighbour } = made as Required<typeof made>;
  const timeoutMs = options.execTimeoutMs ?? 120_000;
  const sh = async (script: string): Promise<Shell> => {
    const result = await sandbox.exec({ argv: ['sh', '-c', script], timeoutMs });
    return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() };
  };
  return {
    confinement,
    targets,
    sandbox,
    neighbour,
    async run(attempt) {
      const base = { name: attempt.name, category: attempt.category };
      if (confinement === 'none' && !attempt.control) return { ...base, escaped: null, evidence: 'not tried on the control: with nothing around it, it would attack the host for real' };
      const reason = attempt.notApplicable?.(confinement, targets) ?? null;
      if (reason) return { ...base, escaped: null, evidence: reason };
      const verdict = await attempt.run({ sandbox, neighbour, targets, confinement, sh });
      return { ...base, ...verdict };
    },
    close,
  };
}

export interface CategoryCount {
  attempts: number;
  successes: number;
}

/** Attempts tried and escapes per category (an attempt not tried counts in neither). */
export function countByCategory(outcomes: readonly AttemptOutcome[]): Record<EscapeCategory, CategoryCount> {
  const counts = Object.fromEntries(ESCAPE_CATEGORIES.map((category) => [category, { attempts: 0, successes: 0 }])) as Record<EscapeCategory, CategoryCount>;
  for (const outcome of outcomes) {
    if (outcome.escaped === null) continue;
    counts[outcome.category].attempts += 1;
    if (outcome.escaped) counts[outcome.category].successes += 1;
  }
  return counts;
}
