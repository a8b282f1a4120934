/**
 * The sandboxes the E2B server holds: each a core sandbox with E2B's
 * metadata, its envd access token, its process table and a deadline. A
 * sandbox past its deadline is destroyed; its id is remembered (the last
 * TOMBSTONES of them) so the API can say it timed out rather than that it
 * never was.
 */
import { randomBytes } from 'node:crypto';
import type { Backend, Sandbox } from '../backends/types.ts';
import { SandboxFiles } from './files.ts';
import { ProcessTable } from './processes.ts';

/** E2B's default sandbox lifetime and its longest (24 h on E2B's Pro tier). */
export const DEFAULT_TIMEOUT_S = 300;
export const MAX_TIMEOUT_S = 86_400;
const TOMBSTONES = 1000;

export interface Session {
  readonly id: string;
  readonly templateId: string;
  readonly backend: string;
  readonly metadata: Record<string, string>;
  readonly envdAccessToken: string;
  readonly startedAt: Date;
  endAt: Date;
  readonly sandbox: Sandbox;
  readonly processes: ProcessTable;
  readonly files: SandboxFiles;
  timer: NodeJS.Timeout;
}

/** E2B sandbox ids are short lowercase alphanumerics, usable as a DNS label. */
function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `r${[...randomBytes(19)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export class Sessions {
  private readonly live = new Map<string, Session>();
  private readonly gone = new Map<string, string>();

  constructor(private readonly onError: (message: string) => void = () => {}) {}

  async create(backend: Backend, request: { templateId: string; timeoutS: number; metadata: Record<string, string>; envs: Record<string, string> }): Promise<Session> {
    const sandbox = await backend.create({ env: request.envs });
    const id = newId();
    const startedAt = new Date();
    const session: Session = {
      id,
      templateId: request.templateId,
      backend: backend.name,
      metadata: request.metadata,
      envdAccessToken: randomBytes(24).toString('base64url'),
      startedAt,
      endAt: startedAt,
      sandbox,
      processes: new ProcessTable(sandbox, id),
      files: new SandboxFiles(sandbox),
      timer: setTimeout(() => {}, 0),
    };
    this.live.set(id, session);
    this.setTimeout(session, request.timeoutS);
    return session;
  }

  get(id: string): Session | undefined {
    return this.live.get(id);
  }

  /** Why a sandbox that is not live is gone ("killed", "timed out at ..."), or undefined if this server never had it. */
  goneReason(id: string): string | undefined {
    return this.gone.get(id);
  }

  list(): Session[] {
    return [...this.live.values()];
  }

  /** From now, `timeoutS` seconds (clamped to MAX_TIMEOUT_S) until the sandbox is destroyed. */
  setTimeout(session: Session, timeoutS: number): void {
    const seconds = Math.min(Math.max(timeoutS, 0), MAX_TIMEOUT_S);
    clearTimeout(session.timer);
    session.endAt = new Date(Date.now() + seconds * 1000);
    session.timer = setTimeout(() => void this.destroy(session.id, `timed out at ${session.endAt.toISOString()}`), seconds * 1000);
  }

  /** Destroys the sandbox; false when it was not live. */
  async destroy(id: string, reason: string): Promise<boolean> {
    const session = this.live.get(id);
    if (!session) return false;
    this.live.delete(id);
    clearTimeout(session.timer);
    this.gone.set(id, reason);
    if (this.gone.size > TOMBSTONES) this.gone.delete(this.gone.keys().next().value!);
    await session.sandbox.destroy().catch((error: unknown) => this.onError(`destroying sandbox ${id}: ${String(error)}`));
    return true;
  }

  async destroyAll(reason: string): Promise<void> {
    await Promise.all(this.list().map((session) => this.destroy(session.id, reason)));
  }
}
