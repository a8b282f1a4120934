/**
 * What sandboxes can leave on the host, listed before and after a load run so
 * that what is new afterwards is a leak, by kind: processes (this process's
 * live descendants and any process carrying a sandbox id in its environment —
 * a container's, under its engine's shim), mounts and cgroup directories with
 * rigor's or an engine's names, rigor's temp dirs, and the engine containers
 * labelled with this process as their owner. Reading is effectful; the diff is pure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendants, readProcTable } from '../../../base/proc-table.ts';
import { SANDBOX_ID_ENV } from '../../../sandbox-core/backends/agent-sandbox.ts';
import type { Backend } from '../../../sandbox-core/backends/types.ts';
import { EngineBackend } from '../../../sandbox-core/backends/engines/backend.ts';
import { runEngine } from '../../../sandbox-core/backends/engines/engine.ts';
import { OWNER_LABEL } from '../../../sandbox-core/backends/engines/run-args.ts';
import { SANDBOX_RUN_ROOT } from '../../../sandbox-core/cleanup.ts';

export const LEAK_KINDS = ['processes', 'mounts', 'cgroups', 'temp_dirs', 'containers'] as const;
export type LeakKind = (typeof LEAK_KINDS)[number];
/** Per kind, the things present (a pid, a mount line, a path, a container name). */
export type Census = Record<LeakKind, string[]>;

/** Names a sandbox's mounts and cgroups carry: rigor's own, an engine's, a container id. */
const SANDBOX_NAMES = /rigor|docker|libpod|containers\/storage|runsc|[0-9a-f]{64}/;
/** An owned name (base/temp-dirs.ts, the runc-like backends' ids and cgroups): rigor-<kind>-<owner pid>-XXXXXX. */
const OWNED_NAME = /rigor-[a-z0-9]+-(\d+)-/g;
/** Deep enough for every backend's cgroups (engine/<id>, rigor-sandboxes/<id>/...), shallow enough to stay cheap. */
const CGROUP_DEPTH = 4;

/** Whether `text` names a thing another rigor process owns (another run or test on this host), which is not this run's to count. */
function othersOwn(text: string): boolean {
  for (const match of text.matchAll(OWNED_NAME)) if (Number(match[1]) !== process.pid) return true;
  return false;
}

/** A temp dir named as this process's own (every sandbox's is, so the next start can sweep it after a SIGKILL); other rigor-* dirs on a shared host are not this run's. */
function ownedByUs(name: string): boolean {
  const match = /^rigor-[a-z0-9]+-(\d+)-/.exec(name);
  return match !== null && Number(match[1]) === process.pid;
}

/** Sandbox names of this process, or of no process in particular (an engine's, a container id). */
const ours = (text: string) => SANDBOX_NAMES.test(text) && !othersOwn(text);

/** Per kind, what `after` holds that `before` did not. Pure. */
export function leaksBetween(before: Census, after: Census): Census {
  const diff = (kind: LeakKind) => {
    const had = new Set(before[kind]);
    return after[kind].filter((item) => !had.has(item));
  };
  return Object.fromEntries(LEAK_KINDS.map((kind) => [kind, diff(kind)])) as Census;
}

/** Everything of every kind now; `backend`'s engine is asked for its containers when it has one. */
export async function takeCensus(backend: Backend): Promise<Census> {
  return {
    processes: sandboxProcesses(),
    mounts: numbered(readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(ours)),
    cgroups: cgroupDirs(),
    temp_dirs: [tmpdir(), SANDBOX_RUN_ROOT].flatMap((root) => entries(root).filter(ownedByUs).map((name) => join(root, name))),
    containers: await engineContainers(backend),
  };
}

/** A mount listed twice is two mounts: each line keyed by its occurrence. */
function numbered(lines: string[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((line) => {
    const n = (seen.get(line) ?? 0) + 1;
    seen.set(line, n);
    return `${line} #${n}`;
  });
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sandboxProcesses(): string[] {
  const table = readProcTable().filter((entry) => entry.state !== 'Z');
  const pids = new Set(descendants(table, process.pid).filter((pid) => pid !== process.pid));
  const marker = `${SANDBOX_ID_ENV}=`;
  for (const { pid } of table) {
    if (pid === process.pid || pids.has(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((entry) => entry.startsWith(marker))) pids.add(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  // pid and start time: a pid reused by another process during the run is another process
  return [...pids].map((pid) => `${pid}@${startTime(pid)}`);
}

function startTime(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? '?';
  } catch {
    return '?';
  }
}

/** Cgroup directories with sandbox names under every mounted hierarchy (v1 controllers and v2). */
function cgroupDirs(): string[] {
  const roots = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4]!);
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of entriesWithTypes(dir)) {
      const path = join(dir, name);
      if (ours(name)) found.push(path);
      if (depth < CGROUP_DEPTH) walk(path, depth + 1);
    }
  };
  for (const root of new Set(roots)) walk(root, 1);
  return found;
}

function entriesWithTypes(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** Containers of a docker or podman backend's engine whose owner label names this process. */
async function engineContainers(backend: Backend): Promise<string[]> {
  if (!(backend instanceof EngineBackend)) return [];
  const listed = await runEngine(await backend.connection(), ['ps', '--all', '--filter', `label=${OWNER_LABEL}=${process.pid}`, '--format', '{{.Names}}']);
  if (!listed.ok) throw new Error(`${backend.name} ps (counting containers): ${listed.stderr}`);
  return listed.stdout.split('\n').filter(Boolean);
}
