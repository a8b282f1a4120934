/**
 * What an artifact says about the engine a sandbox ran in (`facts.engine`):
 * read once per connection from `docker info --format '{{json .}}'` or
 * `podman info --format json`, plus what rigor itself chose (private or the
 * user's engine, the runtime, the flags it added).
 */
export type EngineRuntime = 'runc' | 'runsc';

export interface EngineFacts {
  cli: string;
  client_version: string | null;
  server_version: string | null;
  storage_driver: string | null;
  cgroup_driver: string | null;
  /** 'private': a dockerd rigor started; 'user': the engine that answered. */
  managed: 'private' | 'user';
  /** How container ids map to the host: 'remap' (docker --userns-remap), 'uidmap <container>:<host>:<size>' (podman), or 'host' (root inside is host root). */
  userns: string;
  runtime: EngineRuntime;
  /** gVisor's platform, for runtime runsc. */
  platform?: string;
  /** Flags rigor added: the private daemon's, the global ones and those of every run. */
  flags: string[];
  /** Runtimes the engine knows. */
  runtimes: string[];
}

/** The parts of `info` facts.engine keeps, whichever engine printed it. */
export interface EngineInfo {
  client_version: string | null;
  server_version: string | null;
  storage_driver: string | null;
  cgroup_driver: string | null;
  /** Whether the engine maps container root away from host root by itself (docker --userns-remap). */
  remapped: boolean;
  runtimes: string[];
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** `docker info --format '{{json .}}'`. */
export function dockerInfo(json: Record<string, unknown>): EngineInfo {
  const security = Array.isArray(json.SecurityOptions) ? json.SecurityOptions.map(String) : [];
  const client = json.ClientInfo as Record<string, unknown> | undefined;
  return {
    client_version: text(client?.Version),
    server_version: text(json.ServerVersion),
    storage_driver: text(json.Driver),
    cgroup_driver: text(json.CgroupDriver),
    remapped: security.some((option) => option === 'name=userns' || option.startsWith('name=userns,')),
    runtimes: Object.keys((json.Runtimes as Record<string, unknown> | undefined) ?? {}).sort(),
  };
}

/** `podman info --format json`. */
export function podmanInfo(json: Record<string, unknown>): EngineInfo {
  const host = (json.host ?? {}) as Record<string, unknown>;
  const store = (json.store ?? {}) as Record<string, unknown>;
  const version = (json.version ?? {}) as Record<string, unknown>;
  const runtime = (host.ociRuntime ?? {}) as Record<string, unknown>;
  return {
    client_version: text(version.Version),
    server_version: text(version.Version),
    storage_driver: text(store.graphDriverName),
    cgroup_driver: text(host.cgroupManager),
    remapped: false,
    runtimes: text(runtime.name) ? [String(runtime.name)] : [],
  };
}

/** facts.engine of a sandbox: the engine's info and what rigor chose. */
export function engineFacts(
  connection: { cli: string; managed: 'private' | 'user' },
  info: EngineInfo,
  chosen: { runtime: EngineRuntime; platform?: string; userns: string; flags: string[] },
): EngineFacts {
  return {
    cli: connection.cli,
    client_version: info.client_version,
    server_version: info.server_version,
    storage_driver: info.storage_driver,
    cgroup_driver: info.cgroup_driver,
    managed: connection.managed,
    userns: chosen.userns,
    runtime: chosen.runtime,
    ...(chosen.platform ? { platform: chosen.platform } : {}),
    flags: chosen.flags,
    runtimes: info.runtimes,
  };
}
