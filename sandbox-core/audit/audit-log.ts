import Database from 'better-sqlite3';
import { sleepSync } from '../../base/sleep-sync.ts';
import { migrateAuditSchema } from './audit-schema.ts';

/** What was attempted: an HTTP request, a DNS query or a process start. */
export type AuditKind = 'http' | 'dns' | 'exec';

/** What the policy decided; `log` lets the attempt through and marks it. */
export type AuditDecision = 'allow' | 'block' | 'log';

/** One decision to write. */
export interface AuditRecord {
  kind: AuditKind;
  /** The sandbox that made the attempt; null when it is not known. */
  sandbox: string | null;
  /** What was attempted: host+path for http, the query name for dns, the argv joined for exec. */
  subject: string;
  /** Everything else worth keeping (method, query type, rcode...), stored as JSON. */
  detail: Record<string, unknown>;
  /** The rule that matched; null when the default decision applied. */
  ruleId: string | null;
  decision: AuditDecision;
  /** Milliseconds since the epoch; defaults to now. */
  at?: number;
}

/** One decision as read back, with its row id. */
export interface AuditEvent extends Required<AuditRecord> {
  id: number;
}

/** Selects events; every field given must match (a null `sandbox` or `ruleId` selects nulls). */
export interface AuditFilter {
  kind?: AuditKind;
  decision?: AuditDecision;
  sandbox?: string | null;
  ruleId?: string | null;
  /** Events at or after this time (ms since the epoch). */
  since?: number;
  /** Events before this time (ms since the epoch). */
  until?: number;
}

interface EventRow {
  id: number;
  at: number;
  kind: AuditKind;
  sandbox: string | null;
  subject: string;
  detail: string;
  rule_id: string | null;
  decision: AuditDecision;
}

const INSERT = 'INSERT INTO events (at, kind, sandbox, subject, detail, rule_id, decision) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** SQL condition for each filter field; `IS` so that a null value selects nulls. */
const CONDITIONS: Record<keyof AuditFilter, string> = {
  kind: 'kind IS ?',
  decision: 'decision IS ?',
  sandbox: 'sandbox IS ?',
  ruleId: 'rule_id IS ?',
  since: 'at >= ?',
  until: 'at < ?',
};

/** How long a connection waits for another's lock (SQLite's busy handler), and how long open() retries. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Runs `setup`, again after a short random pause while SQLite answers SQLITE_BUSY, for up to
 * {@link BUSY_TIMEOUT_MS}. The busy handler does not cover everything open() does: switching a fresh
 * file to WAL while another process does the same can return SQLITE_BUSY at once (SQLite refuses to
 * wait where two lock upgrades could deadlock), seen as "database is locked" from 1 of 6 racing writers.
 */
function whileBusy(setup: () => void): void {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      setup();
      return;
    } catch (error) {
      const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
      if (!busy || performance.now() > deadline) throw error;
      // open() is synchronous (callers use it so); a blocking pause of a few ms is what the busy handler does too.
      sleepSync(5 + Math.random() * 20);
    }
  }
}

/**
 * The audit database: one SQLite file holding every policy decision (http,
 * dns and exec). WAL mode, so readers (a rig counting events) never wait for
 * the writer and the writer never waits for them.
 */
export class AuditLog {
  readonly #db: Database;
  readonly #insert: Database.Statement;
  readonly #insertMany: (records: readonly AuditRecord[]) => void;
  // Filtered queries are built from the set of fields given; each shape is prepared once.
  readonly #queries = new Map<string, Database.Statement>();

  private constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(INSERT);
    this.#insertMany = db.transaction((records: readonly AuditRecord[]) => {
      for (const record of records) this.#write(record);
    });
  }

  /**
   * Opens (creating if needed) the audit database at `path` and brings its
   * schema to the current version.
   * @throws Error naming `path` when the file is not an SQLite database or has a newer schema.
   */
  static open(path: string): AuditLog {
    let db: Database | undefined;
    try {
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
      const opened = db;
      whileBusy(() => {
        opened.pragma('journal_mode = WAL');
        // In WAL mode NORMAL loses no committed data on a process crash, only on power loss, and spares an fsync per insert.
        opened.pragma('synchronous = NORMAL');
        migrateAuditSchema(opened, path);
      });
      return new AuditLog(db);
    } catch (error) {
      db?.close();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(message.startsWith(path) ? message : `${path}: cannot open the audit database: ${message}`, { cause: error });
    }
  }

  /** Writes one event, committed before this returns. */
  record(event: AuditRecord): void {
    this.#write(event);
  }

  /** Writes many events in one transaction: all or none, and far cheaper per event than {@link record}. */
  recordMany(events: readonly AuditRecord[]): void {
    this.#insertMany(events);
  }

  /** How many events match `filter` (all of them without one). */
  count(filter: AuditFilter = {}): number {
    const { where, values } = whereClause(filter);
    const row = this.#statement(`SELECT count(*) AS n FROM events${where}`).get(...values) as { n: number };
    return row.n;
  }

  /** The events matching `filter`, oldest first. */
  events(filter: AuditFilter = {}): AuditEvent[] {
    const { where, values } = whereClause(filter);
    const rows = this.#statement(`SELECT * FROM events${where} ORDER BY id`).all(...values) as EventRow[];
    return rows.map(toEvent);
  }

  /** Closes the database; later calls throw. */
  close(): void {
    this.#db.close();
  }

  #write(event: AuditRecord): void {
    this.#insert.run(event.at ?? Date.now(), event.kind, event.sandbox, event.subject, JSON.stringify(event.detail), event.ruleId, event.decision);
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#queries.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
  }
}

function whereClause(filter: AuditFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  for (const field of Object.keys(CONDITIONS) as (keyof AuditFilter)[]) {
    if (filter[field] === undefined) continue;
    conditions.push(CONDITIONS[field]);
    values.push(filter[field]);
  }
  return { where: conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`, values };
}

function toEvent(row: EventRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    kind: row.kind,
    sandbox: row.sandbox,
    subject: row.subject,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    ruleId: row.rule_id,
    decision: row.decision,
  };
}
