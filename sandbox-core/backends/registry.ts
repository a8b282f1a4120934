/**
 * Every backend by name, in the order rigs list them. A backend whose host
 * lacks what it needs is still listed: `available()` says why it cannot run,
 * so a rig cell becomes `skipped` with that reason instead of vanishing.
 */
import { bwrapBackend } from './bwrap.ts';
import { dockerBackend } from './docker.ts';
import { firecrackerBackend } from './firecracker.ts';
import { podmanBackend } from './podman.ts';
import { processBackend } from './process.ts';
import { qemuBackend } from './qemu.ts';
import { runcBackend } from './runc.ts';
import type { Backend } from './types.ts';

const backends: readonly Backend[] = [
  processBackend,
  bwrapBackend,
  runcBackend,
  qemuBackend,
  firecrackerBackend,
  dockerBackend,
  podmanBackend,
];

export const backendNames: readonly string[] = backends.map((backend) => backend.name);

export function listBackends(): readonly Backend[] {
  return backends;
}

/** The backend called `name`; the error lists the known names. */
export function getBackend(name: string): Backend {
  const backend = backends.find((candidate) => candidate.name === name);
  if (!backend) throw new Error(`unknown sandbox backend ${JSON.stringify(name)}; expected one of ${backendNames.join(', ')}`);
  return backend;
}
