/**
 * Containers a rigor left behind when it was SIGKILLed: its `<engine> run` died
 * with it (parent-death signal) and the agent then exited at end of stdin, but
 * the stopped container stays (or, killed mid-start, was created and never
 * ran). Each carries its owner's pid in a label; a container whose owner is
 * dead belongs to nobody.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cgroupDirsFor, dirOf, thawCgroup } from '../../../base/cgroups.ts';
import { processExists } from '../../../base/signal.ts';
import { runEngine, type EngineConnection } from './engine.ts';
import { OWNER_LABEL } from './run-args.ts';

/**
 * Names of the containers in `<engine> ps` lines "<name>\t<labels>" whose owner is not alive. The labels
 * are printed as docker does ("a=1,rigor.owner=42") or podman ("map[a:1 rigor.owner:42]"): one template
 * serves both, where `.Label "x"` is docker's alone.
 */
export function staleContainers(psOutput: string, alive: (pid: number) => boolean): string[] {
  const owner = new RegExp(`(?:^|[ ,\\[])${OWNER_LABEL.replace('.', '\\.')}[=:](\\d+)(?:$|[ ,\\]])`);
  return psOutput
    .split('\n')
    .map((line) => line.trim().split('\t'))
    .flatMap(([name, labels]) => {
      const pid = Number(owner.exec(labels ?? '')?.[1]);
      return name && Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid) ? [name] : [];
    });
}

/** `rm -f` every stale rigor container of the engine; returns their names. */
export async function sweepStaleContainers(connection: EngineConnection): Promise<string[]> {
  const listed = await runEngine(connection, ['ps', '--all', '--filter', `label=${OWNER_LABEL}`, '--format', '{{.Names}}\t{{.Labels}}']);
  if (!listed.ok) return [];
  const stale = staleContainers(listed.stdout, processExists);
  // one at a time, each tried again: an engine still cleaning up after a container's exit can refuse it once
  for (const name of stale) {
    // a sandbox's pause freezes its container's cgroup behind the engine's back: a kill stays pending until thawed
    await thawContainer(connection, name).catch(() => undefined);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const outcome = await runEngine(connection, [...connection.removeArgs, name]);
      if (outcome.ok || /no such container|no container with name or id/i.test(outcome.stderr)) break;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  await sweepForgottenRuncState(connection).catch(() => undefined);
  return stale;
}

/**
 * Containers in the engine's runc state that the engine no longer knows and whose root maps to rigor's range:
 * a sandbox killed between runc's create and start (its `runc init` blocked on the exec fifo, holding a cgroup)
 * that the engine's `rm --force` dropped from its records only. `runc delete --force` kills and removes each.
 */
export async function sweepForgottenRuncState(connection: EngineConnection): Promise<string[]> {
  const forgotten = await forgottenRuncState(connection);
  for (const id of forgotten) await execa('runc', ['--root', connection.runcState!.root, 'delete', '--force', id], { reject: false, stdin: 'ignore' });
  return forgotten;
}

/** The ids sweepForgottenRuncState() would delete (rigor doctor lists them), found without changing anything. */
export async function forgottenRuncState(connection: EngineConnection): Promise<string[]> {
  const state = connection.runcState;
  if (!state || !existsSync(state.root)) return [];
  const listed = await runEngine(connection, ['ps', '--all', '--no-trunc', '--format', '{{.ID}}']);
  if (!listed.ok) return [];
  const known = new Set(listed.stdout.split('\n').filter(Boolean));
  return readdirSync(state.root).filter((id) => !known.has(id) && rootHostIdOf(join(state.root, id, 'state.json')) === state.rootHostId);
}

/** The host uid runc's state says the container's root maps to, or undefined when it cannot be read. */
function rootHostIdOf(stateFile: string): number | undefined {
  try {
    const mappings = (JSON.parse(readFileSync(stateFile, 'utf8')) as { config?: { uid_mappings?: Array<{ container_id: number; host_id: number }> } }).config?.uid_mappings;
    return mappings?.find((mapping) => mapping.container_id === 0)?.host_id;
  } catch {
    return undefined;
  }
}

/** Thaws the freezer cgroup of a container's first process, if it still has one; the engine never knew it was frozen. */
async function thawContainer(connection: EngineConnection, name: string): Promise<void> {
  const inspected = await runEngine(connection, ['inspect', '--format', '{{.State.Pid}}', name]);
  const pid = Number(inspected.stdout);
  if (!inspected.ok || !Number.isInteger(pid) || pid <= 0) return;
  const dirs = cgroupDirsFor('', readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  const freezer = dirOf(dirs, 'freezer') ?? dirOf(dirs, '');
  if (freezer) thawCgroup(freezer);
}
