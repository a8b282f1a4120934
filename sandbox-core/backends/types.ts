/**
 * The one interface every backend implements: create → ready → exec → files →
 * pause/resume → stats → destroy, every phase timestamped on the host clock.
 */

/** What a sandbox may do; everything not granted is denied. */
export interface SandboxSpec {
  /** Workspace inside the sandbox, writable (default /workspace); everything else read-only. */
  workspacePath?: string;
  /** Network: 'none' = only the sandbox's own loopback (default). */
  network?: 'none';
  /** Memory limit in MiB (cgroup on bwrap, runc and gvisor; the VM's size on qemu); default DEFAULT_LIMITS.memoryMiB. */
  memoryMiB?: number;
  /** Most processes and threads at once (cgroup pids.max on bwrap and runc; the commands' RLIMIT_NPROC on gvisor and qemu); default DEFAULT_LIMITS.pids. */
  pidsLimit?: number;
  /** Size of the workspace filesystem in MiB (a size-limited tmpfs, charged to the memory limit); default DEFAULT_LIMITS.workspaceMiB. */
  workspaceMiB?: number;
  /**
   * Syscall filter of bwrap, runc and gvisor sandboxes (gvisor: applied by the Sentry): 'default' (rigor's default profile, see
   * sandbox-core/seccomp/) unless 'unconfined' is asked for; `allowSyscalls` takes names out of
   * the default profile's deny list (granting, say, `unshare` to a sandbox that needs it).
   */
  seccomp?: 'default' | 'unconfined';
  allowSyscalls?: string[];
  /** Linux capabilities granted inside (names like CAP_NET_ADMIN); default none. */
  capabilities?: string[];
  /** Environment of every exec, before the request's own env. */
  env?: Record<string, string>;
  /** Which agent runs inside: the small native one (default) or the Node one (to measure the choice). */
  agent?: 'native' | 'node';
  /**
   * Egress through the host's proxy (and resolver), bwrap, gvisor and qemu only: the proxy's unix socket
   * `proxySocket` (and the resolver's DNS-over-TCP socket `dnsSocket`) are the sandbox's only way
   * out. Every exec gets HTTP_PROXY/HTTPS_PROXY (and the lower-case pair) and RIGOR_DNS_SERVER
   * naming where they are reached inside: bwrap and gvisor, the agent relays 127.0.0.1:3128 and :1053 (the
   * network namespace, or gVisor's netstack, has nothing else); qemu, a virtio-net device on qemu's user network in
   * restricted mode forwards 10.0.2.100:3128 and :53, and routes nothing else. qemu only: each guest
   * connection there is a host process (`rigor-agent --relay`), at most `maxRelays` at once
   * (default DEFAULT_MAX_RELAYS, 32, backends/qemu/sandbox.ts); one beyond is closed unrelayed and
   * handed to `onRelayRefused` as an audit record (block, this sandbox's id), for the caller's audit log.
   */
  egress?: { proxySocket: string; dnsSocket?: string; maxRelays?: number; onRelayRefused?: (record: import('../audit/audit-log.ts').AuditRecord) => void };
  /** Consulted before every exec; a `block` rejects the exec with ExecBlockedError and nothing runs. */
  execPolicy?: ExecPolicy;
  /** Give up on create() when the agent has not answered by then (default 30 s; qemu under TCG needs more). */
  readyTimeoutMs?: number;
}

/** Host-clock milestones of one sandbox, in ms since create() was called. */
/**
 * Judges every exec request before it reaches the agent (e.g. the egress
 * glue's `policyDeciders(...).exec`, which also audits it). It sees what the
 * host asks the agent to run, not what those commands start themselves.
 */
export type ExecPolicy = (argv: string[], cwd: string) => { decision: 'allow' | 'block' | 'log'; ruleId: string | null };

export interface Phases {
  /**
   * The backend's process started: the launcher spawned (bwrap; the setpriv that execs the agent, runc, an
   * engine CLI or firecracker), except qemu, whose `launched` is qemu itself running (its -pidfile written).
   */
  launched?: number;
  /** The agent's hello arrived on the channel. */
  connected?: number;
  /** The agent answered a ping: the sandbox is ready. */
  ready?: number;
  [phase: string]: number | undefined;
}

/** One stage of guest or sandbox init on the guest's own clock (CLOCK_MONOTONIC / boot time, ms). */
export interface BootStage {
  name: string;
  ms: number;
}

export interface ExecRequest {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
  /**
   * Hears the command's output as the agent reads it (the agent protocol's OUTPUT frames), before
   * the result, which still holds all of it (up to 16 MiB a stream). e2b passes on the SDK's
   * onStdout/onStderr; an agent built before streaming sends none, and the result has it all.
   */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Guest clock (ms): request received, child spawned, child exited, reply sent. */
  guest: { received: number; spawned: number; exited: number };
  /** Host clock (ms since the call): the round trip as the caller saw it. */
  roundTripMs: number;
  timedOut: boolean;
}

export interface SandboxStats {
  /** Host memory of every host process belonging to the sandbox. */
  memory: { bytes: number; kind: 'pss' | 'rss'; method: string };
  processes: number;
  /** Limits the sandbox ran into, where its cgroups count them: OOM kills and refused forks. */
  limits?: { oomKills: number; forksRefused: number };
  /**
   * Host memory the sandbox needs but shares with every other sandbox of its backend (a container
   * engine's daemons: dockerd, containerd), not counted in `memory`; `what` names the processes.
   */
  shared?: { bytes: number; kind: 'pss' | 'rss'; method: string; processes: number; what: string };
}

/** What confines a sandbox's commands, as artifacts record it per cell. */
export interface IsolationFacts {
  /** Seccomp profile of the commands ('rigor-default-v1', 'unconfined'); a VM guest says whose kernel filters. */
  seccomp: string;
  /** uid the commands run as inside. */
  commandUid: number;
  /** Host uid the commands run as (gvisor: the Sentry's, whose stubs run their code), or 'guest' when they run in a VM's own kernel. */
  commandHostUid: number | 'guest';
  /** Host uid the VMM (qemu) runs as: a uid of the sandbox's own, not root. */
  vmmHostUid?: number;
  /** Limits enforced on the host side; null where the backend has none of that kind. */
  limits: { pids: number | null; memoryMiB: number; workspaceMiB: number | null };
}

export interface Sandbox {
  readonly id: string;
  readonly backend: string;
  readonly phases: Phases;
  /** How the backend confines this sandbox; absent for the `process` floor, which confines nothing. */
  readonly isolation?: IsolationFacts;
  /** What else an artifact should say about how this sandbox ran (qemu: accel, guest kernel and command line). */
  readonly facts?: Record<string, unknown>;
  /** Guest init stages as the agent reported them in its hello. */
  readonly bootStages: BootStage[];
  /**
   * A sandbox driven through an API (e2b) whose core sandbox this process holds (rigor serve on
   * loopback): runs a request on that core sandbox directly, exactly as the API's server runs it
   * (same argv, environment and sandbox), with no API in between. Absent for every other sandbox.
   */
  readonly direct?: { exec(request: ExecRequest): Promise<ExecResult> };
  exec(request: ExecRequest): Promise<ExecResult>;
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  ping(): Promise<number>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stats(): Promise<SandboxStats>;
  /**
   * Saves the sandbox's whole state (memory, devices, its workspace) into `dir`, a new directory (written
   * beside it under another name and renamed when complete); the sandbox runs on afterwards (or stays
   * paused if it was). Only where the backend can (Backend.restore); see sandbox-core/README.md, Snapshots.
   */
  snapshot?(dir: string): Promise<SnapshotInfo>;
  /**
   * Copies the running sandbox into `dir`, a new directory (written beside it and renamed when whole), as an
   * image Backend.fromFork starts children from; the sandbox runs on. What it wrote before the fork is in every
   * child; nothing a child writes reaches it or another child. See sandbox-core/README.md, Fork.
   */
  fork?(dir: string): Promise<ForkInfo>;
  /** Reaps every process and removes every mount, namespace and temp dir it made. Idempotent. */
  destroy(): Promise<void>;
}

/** What snapshot() wrote. */
export interface SnapshotInfo {
  dir: string;
  /** Host clock from the call to the renamed directory, the sandbox paused throughout. */
  saveMs: number;
  /** Sizes of the files together: logical (sparse files count their holes) and the blocks allocated on disk. */
  bytes: number;
  allocatedBytes: number;
}

/** What fork() wrote. */
export interface ForkInfo {
  dir: string;
  /** Host clock from the call to the renamed directory (the parent paused while its state was copied). */
  forkMs: number;
  /** Sizes of the image's files together: logical (holes counted) and the blocks allocated on disk (st_blocks × 512). */
  bytes: number;
  allocatedBytes: number;
  /** How the data was copied: 'reflink' only when the filesystem cloned it (copy-on-write); 'copy' when its blocks were copied (sparse: holes stay holes). */
  copy: 'reflink' | 'copy';
  /** What the image holds, in words (qemu: "guest RAM and device state"; runc: "the workspace"). */
  holds: string;
}

export interface RestoreOptions {
  signal?: AbortSignal;
  /** As SandboxSpec.readyTimeoutMs; the rest of the spec is the saved sandbox's. */
  readyTimeoutMs?: number;
}

export interface Backend {
  readonly name: string;
  /** Whether this host can run it; the reason names what is missing ("runc not on PATH"). */
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
  create(spec?: SandboxSpec, options?: { signal?: AbortSignal }): Promise<Sandbox>;
  /** It starts guests under KVM where KVM is usable (qemu, else TCG; firecracker, else nothing): the host's KVM status bears on its numbers. */
  readonly usesKvm?: boolean;
  /**
   * A new sandbox from a directory its snapshot() wrote, as fresh as a new one: nothing it does reaches
   * the snapshot or another restore of it. Refuses (naming the file and field) a damaged or missing
   * snapshot, one from another version of the backend's engine or guest, and leaves nothing running then.
   */
  restore?(dir: string, options?: RestoreOptions): Promise<Sandbox>;
  /** Whether restore() and Sandbox.snapshot() work on this host, found at run time; a backend without restore has none. */
  snapshotSupport?(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /**
   * A new sandbox started from an image Sandbox.fork() wrote: what the parent had written before the fork
   * is there; nothing it writes reaches the image, the parent or another child. Refuses (naming the file and
   * field) a damaged or foreign image and leaves nothing running then.
   */
  fromFork?(dir: string, options?: RestoreOptions): Promise<Sandbox>;
  /** Whether Sandbox.fork() and fromFork() work on this host; a backend without fromFork has none. */
  forkSupport?(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Builds and caches what create() needs (a guest kernel, an image) ahead of timed work; optional. */
  prepare?(signal?: AbortSignal): Promise<void>;
  /**
   * Options a backend can be configured with beyond a sandbox's spec (qemu: kernel, machine,
   * command-line preset), by name; variant() returns the backend configured so (one per distinct
   * options, cached), and variantProblems() names what is wrong with options before any is made.
   */
  readonly variantOptions?: readonly string[];
  variant?(options: Record<string, unknown>): Backend;
  variantProblems?(options: Record<string, unknown>): string[];
}
