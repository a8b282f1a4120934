/** SIGINT or SIGTERM in the middle of a run: an `interrupted` artifact with what was measured, no child left. */
import { settlesToZero, waitUntil } from '../../helpers/leftovers.ts';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { startRigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pids of live processes whose command line contains the marker. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

async function interruptRun(signal: NodeJS.Signals) {
  const marker = `rigor-marker-${randomUUID()}`;
  const rigPath = join(dir, `slow-${signal.toLowerCase()}.rig.yaml`);
  writeFileSync(
    rigPath,
    `name: slow-${signal.toLowerCase()}
title: Slow rig to interrupt
claim: Interrupting a run keeps what was measured.
workload: command
params:
  run: "sleep 0.15; : ${marker}"
matrix:
  step: [a, b]
sampling: { warmup: 0, iterations: 200 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`,
  );
  const out = join(dir, `out-${signal}`);
  const child = startRigor(['run', rigPath, '--out', out]);
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => (stdout += chunk));
  // Interrupt once three samples have run (three distinct marker processes seen): a count, not a fixed sleep.
  const seen = new Set<number>();
  await waitUntil(() => {
    for (const pid of processesWith(marker)) seen.add(pid);
    return seen.size >= 3 || child.exitCode !== null;
  }, 60_000);
  child.kill(signal);
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (c) => resolve(c));
  });
  // A killed command may take a moment to be reaped: what counts is that none stays.
  await settlesToZero(() => processesWith(marker).length);
  return { code, stdout, stderr, out, leftover: processesWith(marker) };
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during a run', (signal) => {
  let outcome: Awaited<ReturnType<typeof interruptRun>>;
  it('exits with 128 + signal number after writing the artifact', async () => {
    outcome = await interruptRun(signal);
    expect(outcome.code, outcome.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
  });

  it('says the run is incomplete among what was not checked (the exit code is the signal one, in CI or not)', () => {
    expect(outcome.stdout).toMatch(/^!! NOT CHECKED — .*:\n!! {2}- this run was interrupted: its cells are incomplete$/m);
  });

  it('leaves no child process behind', () => {
    expect(outcome.leftover).toEqual([]);
  });

  it('leaves one valid artifact marked interrupted, holding the samples taken, and no temp file', () => {
    const files = readdirSync(outcome.out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.json$/);
    const artifact = JSON.parse(readFileSync(join(outcome.out, files[0]!), 'utf8')) as Artifact;
    expect(validatorFor('artifact')(artifact)).toBe(true);
    expect(artifact.run.status).toBe('interrupted');
    const [first, second] = artifact.cells;
    const samples = first!.metrics.wall_ms!.samples;
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.length).toBeLessThan(200);
    expect(first!.truncated).toBe('interrupted');
    expect(second!.status).toBe('skipped');
    expect(second!.reason).toContain('interrupted');
    expect(existsSync(join(outcome.out, `.${files[0]}.tmp`))).toBe(false);
  });
});
