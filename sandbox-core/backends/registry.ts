/**
 * Every backend by name, in the order rigs list them. A backend whose host
 * lacks what it needs is still listed: `available()` says why it cannot run,
 * so a rig cell becomes `skipped` with that reason instead of vanishing.
 */
import { bwrapBackend } from './bwrap.ts';
import { dockerBackend } from './docker.ts';
import { makeE2bBackend } from './e2b.ts';
import { firecrackerBackend } from './firecracker.ts';
import { gvisorBackend } from './gvisor.ts';
import { podmanBackend } from './podman.ts';
import { processBackend } from './process.ts';
import { qemuBackend } from './qemu.ts';
import { runcBackend } from './runc.ts';
import type { Backend } from './types.ts';

const backends: readonly Backend[] = [
  processBackend,
  bwrapBackend,
  runcBackend,
  gvisorBackend,
  qemuBackend,
  firecrackerBackend,
  dockerBackend,
  podmanBackend,
  // Any E2B-compatible endpoint; `serve: <name>` puts one of the backends above behind rigor's own server.
  makeE2bBackend((name) => getBackend(name)),
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

/**
 * The backend called `name` configured by `options` (a rig cell's kernel, machine, ...), through its own
 * variant(); none given = the backend itself. Throws naming an option the backend does not take.
 */
export function backendFor(name: string, options: Record<string, unknown> = {}): Backend {
  const backend = getBackend(name);
  const given = Object.keys(options).filter((key) => options[key] !== undefined);
  if (given.length === 0) return backend;
  const unknown = given.filter((key) => !backend.variantOptions?.includes(key));
  if (unknown.length > 0 || !backend.variant) {
    throw new Error(`backend ${name} takes no option ${unknown.join(', ')}${backend.variantOptions ? `; it takes ${backend.variantOptions.join(', ')}` : ''}`);
  }
  return backend.variant(options);
}

/** Every option name some backend's variant() takes, with the backends that take it. */
export function variantOptionOwners(): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const backend of backends) for (const option of backend.variantOptions ?? []) owners.set(option, [...(owners.get(option) ?? []), backend.name]);
  return owners;
}
