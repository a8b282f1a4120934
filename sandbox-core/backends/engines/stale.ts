/**
 * Containers a rigor left behind when it was SIGKILLed: its `<engine> run` died
 * with it (parent-death signal) and the agent then exited at end of stdin, but
 * the stopped container stays (or, killed mid-start, was created and never
 * ran). Each carries its owner's pid in a label; a container whose owner is
 * dead belongs to nobody.
 */
import { processExists } from '../../../base/signal.ts';
import { runEngine, type EngineConnection } from './engine.ts';
import { OWNER_LABEL } from './run-args.ts';

/** Names of the containers in `<engine> ps` lines "<name>\t<owner pid>" whose owner is not alive. */
export function staleContainers(psOutput: string, alive: (pid: number) => boolean): string[] {
  return psOutput
    .split('\n')
    .map((line) => line.trim().split('\t'))
    .filter(([name, owner]) => name && owner && /^\d+$/.test(owner) && Number(owner) !== process.pid && !alive(Number(owner)))
    .map(([name]) => name!);
}

/** `rm -f` every stale rigor container of the engine; returns their names. */
export async function sweepStaleContainers(connection: EngineConnection): Promise<string[]> {
  const listed = await runEngine(connection, ['ps', '--all', '--filter', `label=${OWNER_LABEL}`, '--format', `{{.Names}}\t{{.Label "${OWNER_LABEL}"}}`]);
  if (!listed.ok) return [];
  const stale = staleContainers(listed.stdout, processExists);
  if (stale.length > 0) await runEngine(connection, ['rm', '--force', ...stale]);
  return stale;
}
