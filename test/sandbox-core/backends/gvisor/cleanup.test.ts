/**
 * What a gvisor sandbox leaves on the host when it is destroyed every way it
 * can end: running, paused, with `runsc run` SIGKILLed when ready or mid-start,
 * and with rigor itself SIGKILLed holding a running and a paused sandbox.
 * runsc has a process tree of its own (runsc run → runsc-sandbox, the Sentry,
 * with its stub processes, and runsc-gofer), so every process is counted, not
 * only what rigor started.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readProcTable } from '../../../../base/proc-table.ts';
import { cgroupDirsFor } from '../../../../base/cgroups.ts';
import { gvisorBackend } from '../../../../sandbox-core/backends/gvisor.ts';
import type { GvisorSandbox } from '../../../../sandbox-core/backends/gvisor/sandbox.ts';
import { runcList } from '../../../../sandbox-core/backends/runc/runc-cli.ts';
import { watchdogName } from '../../../../sandbox-core/backends/runc/watchdog.ts';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { hostIdLocksOf } from '../../../helpers/leftovers.ts';

const availability = await gvisorBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const fixture = fileURLToPath(new URL('./fixtures/hold-sandboxes.ts', import.meta.url));
const RUNSC_RUNTIME = { backend: 'gvisor', command: 'runsc', flags: [] };

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Pids of runsc processes (any of runsc run, runsc-sandbox and its stubs, runsc-gofer) that were not there before. */
function runscPids(): Set<number> {
  return new Set(readProcTable().filter((entry) => /^runsc|^exe$/.test(read(`/proc/${entry.pid}/comm`).trim()) || read(`/proc/${entry.pid}/cmdline`).startsWith('runsc')).map((entry) => entry.pid));
}

/**
 * Live processes of sandboxes named `prefix`: named for one (runsc run, the Sentry and the gofer
 * carry the bundle path), in one's cgroup (the Sentry's stubs), or an orphaned runsc process that was not there before.
 */
function ourProcesses(before: Set<number>, prefix: string): string[] {
  return readProcTable()
    .filter((entry) => entry.state !== 'Z' && entry.pid !== process.pid)
    .filter((entry) => {
      const cmdline = read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ');
      if (cmdline.includes(watchdogName('gvisor'))) return false;
      // a runsc process left to pid 1 (or to us) that names no sandbox; other test files' runsc processes have parents of their own
      const orphan = entry.ppid === 1 || entry.ppid === process.pid;
      const stray = orphan && runscPids().has(entry.pid) && !before.has(entry.pid) && !/rigor-(runc|gvisor)-\d+-/.test(cmdline) && !read(`/proc/${entry.pid}/cgroup`).includes('rigor-');
      return cmdline.includes(prefix) || read(`/proc/${entry.pid}/cgroup`).includes(prefix) || stray;
    })
    .map((entry) => `${entry.pid} ${read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ')}`);
}

async function leftovers(stateRoots: string[], before: Set<number>, owner = process.pid) {
  const prefix = `rigor-gvisor-${owner}-`;
  const lists = await Promise.all(stateRoots.map((root) => runcList(root, RUNSC_RUNTIME)));
  return {
    processes: ourProcesses(before, prefix),
    runscListEntries: lists.flat(),
    cgroupDirs: cgroupDirsFor('').flatMap(({ dir }) => readdirSync(dir).filter((name) => name.startsWith(prefix)).map((name) => `${dir}/${name}`)),
    mounts: read('/proc/self/mountinfo').split('\n').filter((line) => line.includes(prefix)),
    tempDirs: readdirSync(tmpdir()).filter((name) => name.startsWith(prefix)),
    tracked: liveSandboxes().filter((sandbox) => sandbox.backend === 'gvisor' && sandbox.id.startsWith(prefix)).map((sandbox) => sandbox.id),
  };
}

/** Our `runsc run` (setpriv until it execs) for the sandbox being created, once it is there. */
async function launcherPid(prefix: string): Promise<number> {
  for (let waited = 0; waited < 5000; waited++) {
    const found = readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(prefix));
    if (found) return found.pid;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('runsc run never appeared');
}

const NOTHING = { processes: [], runscListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] };

describe.skipIf(!availability.ok)(`gvisor cleanup${skipReason}`, () => {
  it('shows the counting would see a live sandbox: runsc run, the Sentry, its stubs and the gofer', async () => {
    const before = runscPids();
    const sandbox = (await gvisorBackend.create()) as GvisorSandbox;
    try {
      const seen = await leftovers([sandbox.paths.state], before);
      expect(seen.processes.length).toBeGreaterThanOrEqual(4);
      expect(seen.runscListEntries).toEqual([sandbox.id]);
      expect(seen.cgroupDirs.length).toBeGreaterThanOrEqual(3);
      expect(seen.tempDirs).toEqual([sandbox.id]);
      expect(seen.tracked).toEqual([sandbox.id]);
      expect(hostIdLocksOf(process.pid)).toHaveLength(1);
    } finally {
      await sandbox.destroy();
    }
  });

  it('leaves nothing after 20 sandboxes: destroyed running, paused, with runsc run SIGKILLed when ready, and SIGKILLed mid-start', async () => {
    const before = runscPids();
    const stateRoots: string[] = [];
    let failedCreates = 0;
    for (let i = 0; i < 20; i++) {
      const kind = i % 4;
      if (kind === 3) {
        // SIGKILL runsc run 0..80 ms after it appeared: before, while and after it starts the gofer, the Sentry and the agent
        const creating = gvisorBackend.create();
        const pid = await launcherPid(`rigor-gvisor-${process.pid}-`);
        await new Promise((resolve) => setTimeout(resolve, (i * 7) % 80));
        process.kill(pid, 'SIGKILL');
        const outcome = await creating.then(
          (sandbox) => sandbox as GvisorSandbox,
          () => null,
        );
        if (outcome === null) failedCreates += 1;
        else {
          stateRoots.push(outcome.paths.state);
          await outcome.destroy();
        }
        continue;
      }
      const sandbox = (await gvisorBackend.create({ memoryMiB: 128 })) as GvisorSandbox;
      stateRoots.push(sandbox.paths.state);
      expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
      if (kind === 1) await sandbox.pause();
      if (kind === 2) process.kill(readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(sandbox.id))!.pid, 'SIGKILL');
      await sandbox.destroy();
    }
    // most kills must land before ready, or this tested nothing mid-start
    expect(failedCreates).toBeGreaterThanOrEqual(3);
    expect(await leftovers(stateRoots, before)).toEqual(NOTHING);
    expect(hostIdLocksOf(process.pid)).toEqual([]);
  });

  /** A rigor (the fixture) started with `args`, once it printed its first line. */
  async function holder(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`the holder exited with ${code} before its first line: ${out}`)));
    });
    return { child, line };
  }

  /** What the dead `owner` left, once parent-death signals and its watchdog had up to 10 s. */
  async function settled(before: Set<number>, owner: number) {
    let after = await leftovers([], before, owner);
    for (let waited = 0; waited < 10_000 && after.processes.length + after.cgroupDirs.length + after.tempDirs.length > 0; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await leftovers([], before, owner);
    }
    return after;
  }

  it('leaves nothing when rigor itself is SIGKILLed holding a running and a paused sandbox', async () => {
    const before = runscPids();
    const { child, line } = await holder([]);
    expect(line).toMatch(/^READY rigor-gvisor-\d+-\S+ rigor-gvisor-\d+-\S+/);
    const held = await leftovers([], before, child.pid!);
    // two of runsc run, the Sentry, a stub and the gofer
    expect(held.processes.length).toBeGreaterThanOrEqual(8);
    expect(held.cgroupDirs.length).toBeGreaterThanOrEqual(6);
    child.kill('SIGKILL');
    expect(await settled(before, child.pid!)).toEqual(NOTHING);
  });

  it('leaves nothing after the next create() when rigor is SIGKILLed mid-start, 0 to 150 ms after its runsc run appeared', async () => {
    const before = runscPids();
    const owners: number[] = [];
    for (const delay of [0, 30, 60, 90, 120, 150]) {
      const { child, line } = await holder(['starting']);
      expect(line).toBe('STARTING\n');
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      owners.push(child.pid!);
    }
    // the next run: its first create() sweeps stale cgroups of dead owners, and tracking sweeps their temp dirs
    const next = await gvisorBackend.create();
    await next.destroy();
    for (const owner of owners) expect(await settled(before, owner), `owner ${owner}`).toEqual(NOTHING);
  });
});
