/**
 * What `engine.cycle` needs of an engine, and where it gets it: the engines
 * backends' connection (the user's engine, or a private dockerd; podman's
 * global flags and ulimits), the project's image imported into it, the flags
 * choosing the runtime, and the facts saying which engine ran. The workload
 * adds no engine flag of its own beyond what it times.
 */
import type { EngineCli } from './steps.ts';

export const ENGINES = ['docker', 'podman'] as const;
export type EngineName = (typeof ENGINES)[number];
/** runc: the engine's default OCI runtime; runsc: gVisor under the same engine. */
export const RUNTIMES = ['runc', 'runsc'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export interface OpenedEngine {
  cli: EngineCli;
  /** facts.engine: version, storage and cgroup driver, private or the user's, runtime, the flags rigor added. */
  facts: Record<string, unknown>;
}

export interface EngineConnector {
  /** Why this engine with this runtime cannot run here (asked of the engine itself), or null. */
  skipReason(engine: EngineName, runtime: RuntimeName): Promise<string | null>;
  /** The connection, with the image imported (untimed; once per process). */
  open(engine: EngineName, runtime: RuntimeName): Promise<OpenedEngine>;
}
