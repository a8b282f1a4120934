/**
 * The audit database under concurrent writers (issue 16, load): several
 * processes opening one fresh file at the same moment and writing event by
 * event, and many async writers on several connections of one process. No
 * event is lost: the count read back equals the attempts, per writer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../sandbox-core/audit/audit-log.ts';

const WRITER = join(import.meta.dirname, 'fixtures', 'race-writer.ts');
/** Writer processes per round and events each; rounds repeat the race on a fresh file. */
const PROCESSES = 6;
const EVENTS_PER_PROCESS = 300;
const ROUNDS = 3;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rigor-audit-load-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A writer started and loaded (tsx compiled, module imported), waiting for "go". */
async function readyWriter(path: string, tag: string): Promise<{ child: ChildProcess; done: Promise<Outcome> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, String(EVENTS_PER_PROCESS), tag], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const ready = new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) resolve();
  }));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  await Promise.race([ready, done]);
  return { child, done };
}

describe('audit database under concurrent writers', () => {
  it(`loses no event when ${PROCESSES} processes open one fresh file at once and write (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(dir, `audit-${round}.sqlite`);
      const writers = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => readyWriter(path, `writer-${i}`)));
      // Every writer is loaded; release them together so their opens race on the empty file.
      for (const { child } of writers) child.stdin!.end('go\n');
      const outcomes = await Promise.all(writers.map((writer) => writer.done));
      for (const outcome of outcomes) expect(outcome, outcome.stderr).toMatchObject({ code: 0 });
      const log = AuditLog.open(path);
      try {
        expect(log.count()).toBe(PROCESSES * EVENTS_PER_PROCESS);
        for (let i = 0; i < PROCESSES; i++) expect(log.count({ sandbox: `writer-${i}` })).toBe(EVENTS_PER_PROCESS);
      } finally {
        log.close();
      }
    }
  });

  it('loses no event from 200 async writers over 4 connections of one process', async () => {
    const path = join(dir, 'audit.sqlite');
    const logs = Array.from({ length: 4 }, () => AuditLog.open(path));
    const writers = 200;
    const eventsEach = 25;
    let attempts = 0;
    try {
      await Promise.all(Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < eventsEach; i++) {
          attempts++;
          const log = logs[(w + i) % logs.length]!;
          // Single events and batches, interleaved with the other writers at every await.
          if (i % 5 === 4) log.recordMany([{ kind: 'http', sandbox: `w${w}`, subject: `batch-${i}`, detail: {}, ruleId: null, decision: 'log' }]);
          else log.record({ kind: 'exec', sandbox: `w${w}`, subject: `event-${i}`, detail: { i }, ruleId: 'r', decision: 'block' });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }));
      expect(attempts).toBe(writers * eventsEach);
      expect(logs[0]!.count()).toBe(attempts);
      expect(logs[3]!.count({ sandbox: 'w199' })).toBe(eventsEach);
    } finally {
      for (const log of logs) log.close();
    }
  });
});
