/**
 * Containers a rigor left behind when it was SIGKILLed: its `<engine> run` died
 * with it (parent-death signal) and the agent then exited at end of stdin, but
 * the stopped container stays. Each carries the host workspace dir it was
 * given; cleanup.ts removes the dirs of dead owners, so a container whose
 * workspace is gone belongs to nobody.
 */
import { existsSync } from 'node:fs';
import { sweepStaleTempDirs } from '../../../base/temp-dirs.ts';
import { runEngine } from './engine.ts';
import { WORKSPACE_LABEL } from './run-args.ts';

/** Names of the containers in `<engine> ps` lines "<name>\t<workspace>" whose workspace does not exist. */
export function staleContainers(psOutput: string, exists: (path: string) => boolean): string[] {
  return psOutput
    .split('\n')
    .map((line) => line.trim().split('\t'))
    .filter(([name, workspace]) => name && workspace && !exists(workspace))
    .map(([name]) => name!);
}

/** `rm -f` every stale rigor container of the engine behind `cli`; returns their names. */
export async function sweepStaleContainers(cli: string): Promise<string[]> {
  sweepStaleTempDirs();
  const listed = await runEngine(cli, ['ps', '--all', '--filter', `label=${WORKSPACE_LABEL}`, '--format', `{{.Names}}\t{{.Label "${WORKSPACE_LABEL}"}}`]);
  if (!listed.ok) return [];
  const stale = staleContainers(listed.stdout, existsSync);
  if (stale.length > 0) await runEngine(cli, ['rm', '--force', ...stale]);
  return stale;
}
