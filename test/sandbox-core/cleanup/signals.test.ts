/**
 * rigor itself dying with a sandbox alive: a child Node script holding a
 * bwrap sandbox (a command running inside) gets SIGINT (the runner's
 * interrupt path destroys every sandbox) or SIGKILL (pdeathsig and
 * --die-with-parent end the processes; the next run sweeps the cgroups and
 * takes over the sandbox's uid pair).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { sweepStaleTempDirs } from '../../../base/temp-dirs.ts';
import { sweepStaleLimitCgroups } from '../../../sandbox-core/isolation/cgroup-limits.ts';
import { entriesUnder, hostIdLocksOf, limitCgroupsOf, mountsMentioning, processesWithEnv, settlesToZero } from '../../helpers/leftovers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-sandbox.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'rigor-signals-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bwrapReady = await bwrapBackend.available();

/** Run the fixture until it reports its sandbox, send `signal`, wait for it to die. */
async function holdThenSignal(backend: string, signal: NodeJS.Signals, owner: string, state: 'running' | 'paused' = 'running') {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, backend, owner, state], {
    env: { ...process.env, TMPDIR: root },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  try {
    const line = await Promise.race([
      new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))),
      exited.then((exit) => Promise.reject(new Error(`fixture ended (${JSON.stringify(exit)}) before its sandbox was ready`))),
    ]);
    const { id } = JSON.parse(line) as { id: string };
    const pid = child.pid!;
    expect(processesWithEnv(`RIGOR_SANDBOX_ID=${id}`).length).toBeGreaterThan(0);
    expect(processesWithEnv(`RIGOR_TEST_OWNER=${owner}`).length).toBe(1);
    child.kill(signal);
    return { id, exit: await exited, pid };
  } finally {
    child.kill('SIGKILL');
  }
}

describe.skipIf(!bwrapReady.ok)('a rigor process dying with a bwrap sandbox alive', () => {
  it('SIGINT: the interrupt path destroys it, nothing is left', async () => {
    const owner = `sigint-${process.pid}`;
    const { id, exit, pid } = await holdThenSignal('bwrap', 'SIGINT', owner);
    expect(exit.code).toBe(130);
    expect(limitCgroupsOf(id)).toEqual([]);
    expect(hostIdLocksOf(pid)).toEqual([]);
    expect(processesWithEnv(`RIGOR_SANDBOX_ID=${id}`)).toEqual([]);
    expect(processesWithEnv(`RIGOR_TEST_OWNER=${owner}`)).toEqual([]);
    expect(entriesUnder(root).filter((name) => name.startsWith('rigor-bwrap-'))).toEqual([]);
    expect(mountsMentioning(root)).toEqual([]);
  });

  it('SIGKILL: its processes die with it; the next run sweeps its cgroups and takes over its uids', async () => {
    const owner = `sigkill-${process.pid}`;
    const { id, exit, pid } = await holdThenSignal('bwrap', 'SIGKILL', owner);
    expect(exit.signal).toBe('SIGKILL');
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_SANDBOX_ID=${id}`).length)).toBe(0);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_TEST_OWNER=${owner}`).length)).toBe(0);
    expect(mountsMentioning(root)).toEqual([]);
    expect(entriesUnder(root).filter((name) => name.startsWith('rigor-'))).toEqual([]);
    // What only the dead process could have released: its cgroups (now empty) and its uid lock.
    expect(limitCgroupsOf(id).length).toBeGreaterThan(0);
    expect(hostIdLocksOf(pid)).toHaveLength(1);
    expect(sweepStaleLimitCgroups()).toBeGreaterThanOrEqual(1);
    expect(limitCgroupsOf(id)).toEqual([]);
    // A lock whose owner is dead is free for the taking (host-ids.test.ts shows the take-over); this one we drop.
    for (const slot of hostIdLocksOf(pid)) rmSync(join('/run/rigor/host-ids', slot), { force: true });
  });
});

describe('a rigor process dying with a process sandbox alive', () => {
  it.each(['running', 'paused'] as const)('SIGKILL, %s: the agent reads end of stream, kills its command and exits', async (state) => {
    const owner = `process-sigkill-${state}-${process.pid}`;
    const { id } = await holdThenSignal('process', 'SIGKILL', owner, state);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_SANDBOX_ID=${id}`).length)).toBe(0);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_TEST_OWNER=${owner}`).length)).toBe(0);
    sweepStaleTempDirs(root);
    expect(entriesUnder(root).filter((name) => name.startsWith('rigor-'))).toEqual([]);
  });
});
