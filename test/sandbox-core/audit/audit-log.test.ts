import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AuditLog, type AuditRecord } from '../../../sandbox-core/audit/audit-log.ts';

const WRITER = join(import.meta.dirname, 'fixtures', 'write-events.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-audit-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** 1,000 events over every kind, decision and three sandboxes (one of them null). */
function thousandEvents(): AuditRecord[] {
  const kinds = ['http', 'dns', 'exec'] as const;
  const decisions = ['allow', 'block', 'log'] as const;
  const sandboxes = ['sb-a', 'sb-b', null];
  return Array.from({ length: 1000 }, (_, i) => ({
    kind: kinds[i % 3]!,
    decision: decisions[Math.floor(i / 3) % 3]!,
    sandbox: sandboxes[i % 5 === 0 ? 2 : i % 2]!,
    subject: `subject-${i}`,
    detail: { index: i },
    ruleId: i % 7 === 0 ? null : `rule-${i % 4}`,
    at: 1_000_000 + i,
  }));
}

function expected(records: AuditRecord[], keep: (record: AuditRecord) => boolean): number {
  return records.filter(keep).length;
}

describe('AuditLog', () => {
  it('stores 1,000 events, filters them, and keeps them across a reopen', () => {
    const path = join(dir, 'audit.sqlite');
    const records = thousandEvents();
    const log = AuditLog.open(path);
    for (const record of records.slice(0, 500)) log.record(record);
    log.recordMany(records.slice(500));
    expect(log.count()).toBe(1000);
    expect(log.count({ kind: 'dns' })).toBe(expected(records, (r) => r.kind === 'dns'));
    expect(log.count({ decision: 'block' })).toBe(expected(records, (r) => r.decision === 'block'));
    expect(log.count({ sandbox: 'sb-a' })).toBe(expected(records, (r) => r.sandbox === 'sb-a'));
    expect(log.count({ sandbox: null })).toBe(expected(records, (r) => r.sandbox === null));
    expect(log.count({ ruleId: null })).toBe(expected(records, (r) => r.ruleId === null));
    expect(log.count({ kind: 'http', decision: 'log', sandbox: 'sb-b' })).toBe(
      expected(records, (r) => r.kind === 'http' && r.decision === 'log' && r.sandbox === 'sb-b'),
    );
    expect(log.count({ since: 1_000_100, until: 1_000_200 })).toBe(100);
    log.close();

    const reopened = AuditLog.open(path);
    expect(reopened.count()).toBe(1000);
    const blockedExec = reopened.events({ kind: 'exec', decision: 'block' });
    expect(blockedExec.length).toBe(expected(records, (r) => r.kind === 'exec' && r.decision === 'block'));
    const first = blockedExec[0]!;
    const source = records.find((r) => r.subject === first.subject)!;
    expect(first).toEqual({ id: expect.any(Number), ...source });
    reopened.close();
  });

  it('defaults the time to now', () => {
    const log = AuditLog.open(join(dir, 'audit.sqlite'));
    const before = Date.now();
    log.record({ kind: 'dns', sandbox: null, subject: 'a.test', detail: {}, ruleId: null, decision: 'allow' });
    const [event] = log.events();
    expect(event!.at).toBeGreaterThanOrEqual(before);
    expect(event!.at).toBeLessThanOrEqual(Date.now());
    log.close();
  });

  it('rejects a kind or decision outside the schema', () => {
    const log = AuditLog.open(join(dir, 'audit.sqlite'));
    const bad = { kind: 'ftp', sandbox: null, subject: 'x', detail: {}, ruleId: null, decision: 'allow' } as unknown as AuditRecord;
    expect(() => log.record(bad)).toThrow(/CHECK constraint/);
    expect(log.count()).toBe(0);
    log.close();
  });

  it('is a WAL database at the current schema version', () => {
    const path = join(dir, 'audit.sqlite');
    AuditLog.open(path).close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    raw.close();
  });

  it('refuses a newer schema version and a file that is not a database, naming the file', () => {
    const newer = join(dir, 'newer.sqlite');
    const raw = new Database(newer);
    raw.pragma('user_version = 9');
    raw.close();
    expect(() => AuditLog.open(newer)).toThrow(`${newer}: audit database schema version 9 is not supported (expected 1 or an empty file)`);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is not an SQLite file, but it is long enough to have a header.\n'.repeat(20));
    expect(() => AuditLog.open(text)).toThrow(`${text}: cannot open the audit database`);
  });

  it('lets readers count while another process writes', async () => {
    const path = join(dir, 'audit.sqlite');
    AuditLog.open(path).close();
    const batches = 500;
    const size = 50;
    const writer = spawn(process.execPath, ['--import', 'tsx', WRITER, path, String(batches), String(size)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
    let running = true;
    void exited.then(() => (running = false));

    const reader = AuditLog.open(path);
    const seen: number[] = [];
    for (let i = 0; i < 100_000 && running; i++) {
      seen.push(reader.count({ sandbox: 'writer' }));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(await exited).toBe(0);
    // Each transaction is seen whole or not at all, and counts only grow.
    expect(seen.every((n) => n % size === 0)).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // The reader ran during the writes, not only before or after them.
    expect(seen.some((n) => n > 0 && n < batches * size)).toBe(true);
    expect(reader.count()).toBe(batches * size);
    reader.close();
  });
});
