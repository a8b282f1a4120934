import type Database from 'better-sqlite3';

/** The schema version this code writes, kept in SQLite's `PRAGMA user_version`. */
const AUDIT_SCHEMA_VERSION = 1;

const CREATE_V1 = `
CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN ('http', 'dns', 'exec')),
  sandbox  TEXT,
  subject  TEXT    NOT NULL,
  detail   TEXT    NOT NULL,
  rule_id  TEXT,
  decision TEXT    NOT NULL CHECK (decision IN ('allow', 'block', 'log'))
);
CREATE INDEX events_kind_decision ON events (kind, decision);
CREATE INDEX events_sandbox ON events (sandbox);
`;

/**
 * Brings the database at `path` to {@link AUDIT_SCHEMA_VERSION}: creates the
 * tables in an empty file, accepts the current version, and refuses a newer
 * one (written by a later rigor) rather than guessing at its columns.
 */
export function migrateAuditSchema(db: Database, path: string): void {
  if (isCurrent(db, path)) return;
  // One transaction, so a crash mid-creation leaves an empty file, not half a schema. IMMEDIATE takes the write
  // lock before reading the version again: writers opening one fresh file at once create the tables once
  // (a second CREATE TABLE failed "table events already exists" before).
  db.transaction(() => {
    if (isCurrent(db, path)) return;
    db.exec(CREATE_V1);
    db.pragma(`user_version = ${AUDIT_SCHEMA_VERSION}`);
  }).immediate();
}

/** Whether the file holds the current schema; false for an empty file, an error for a newer version. */
function isCurrent(db: Database, path: string): boolean {
  const found = db.pragma('user_version', { simple: true });
  if (found === AUDIT_SCHEMA_VERSION) return true;
  if (found !== 0) {
    throw new Error(`${path}: audit database schema version ${String(found)} is not supported (expected ${AUDIT_SCHEMA_VERSION} or an empty file)`);
  }
  return false;
}
