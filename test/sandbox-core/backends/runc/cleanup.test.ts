import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { liveSandboxes } from '../../../../sandbox-core/cleanup.ts';
import { readProcTable } from '../../../../base/proc-table.ts';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import { cgroupDirsFor, cgroupProcs, dirOf } from '../../../../base/cgroups.ts';
import { runc, runcList } from '../../../../sandbox-core/backends/runc/runc-cli.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';
import { WATCHDOG_NAME } from '../../../../sandbox-core/backends/runc/watchdog.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const prefix = `rigor-runc-${process.pid}-`;
const fixture = fileURLToPath(new URL('./fixtures/hold-sandboxes.ts', import.meta.url));

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Live (non-zombie) processes of containers named `prefix`: named for one, in
 * one's cgroup, or a stray runc that was not there before. The owner's
 * watchdog is not one of them: it lives as long as its owner, by design.
 */
function ourProcesses(runcBefore: Set<number>, prefix: string): string[] {
  return readProcTable()
    .filter((entry) => entry.state !== 'Z' && entry.pid !== process.pid)
    .filter((entry) => {
      const cmdline = read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ');
      if (cmdline.includes(WATCHDOG_NAME)) return false;
      // an orphaned `runc init` names no container: any new runc left to pid 1 (or to us) counts, unless it names someone else's
      const comm = read(`/proc/${entry.pid}/comm`);
      const strayRunc =
        comm.startsWith('runc') && !runcBefore.has(entry.pid) && (entry.ppid === 1 || entry.ppid === process.pid) && !/rigor-runc-\d+-/.test(cmdline);
      return cmdline.includes(prefix) || read(`/proc/${entry.pid}/cgroup`).includes(prefix) || strayRunc;
    })
    .map((entry) => `${entry.pid} ${read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ')}`);
}

/** Host id pairs (isolation/host-ids.ts) this process still holds: lock files naming its pid. */
function hostIdLocks(): string[] {
  const dir = '/run/rigor/host-ids';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => read(`${dir}/${name}`) === String(process.pid));
}

function runcPids(): Set<number> {
  return new Set(readProcTable().filter((entry) => read(`/proc/${entry.pid}/comm`).startsWith('runc')).map((entry) => entry.pid));
}

/** The pid of our launcher (setpriv, then runc after its exec) once it is there. */
async function launcherPid(): Promise<number> {
  for (let waited = 0; waited < 5000; waited++) {
    const found = readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(prefix));
    if (found) return found.pid;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('runc run never appeared');
}

function leftovers(stateRoots: string[], runcBefore: Set<number>, owner = process.pid) {
  const prefix = `rigor-runc-${owner}-`;
  return Promise.all(stateRoots.map((root) => runcList(root))).then((lists) => ({
    processes: ourProcesses(runcBefore, prefix),
    runcListEntries: lists.flat(),
    cgroupDirs: cgroupDirsFor('').flatMap(({ dir }) => readdirSync(dir).filter((name) => name.startsWith(prefix)).map((name) => `${dir}/${name}`)),
    mounts: read('/proc/self/mountinfo').split('\n').filter((line) => line.includes(prefix)),
    tempDirs: readdirSync(tmpdir()).filter((name) => name.startsWith(prefix)),
    tracked: liveSandboxes().filter((sandbox) => sandbox.backend === 'runc' && sandbox.id.startsWith(prefix)).map((sandbox) => sandbox.id),
  }));
}

describe.skipIf(!availability.ok)(`runc cleanup${skipReason}`, () => {
  it('leaves nothing after 50 sandboxes: destroyed running, paused, with runc killed when ready, and with runc SIGKILLed mid-start', async () => {
    const runcBefore = runcPids();
    const stateRoots: string[] = [];
    let killedMidStart = 0;
    let failedCreates = 0;
    for (let i = 0; i < 50; i++) {
      const kind = i % 5;
      if (kind === 4) {
        // SIGKILL runc run 0..24 ms after it appeared: before, during and after runc init and the agent's hello
        const creating = runcBackend.create();
        const pid = await launcherPid();
        await new Promise((resolve) => setTimeout(resolve, (i * 3) % 25));
        process.kill(pid, 'SIGKILL');
        killedMidStart += 1;
        const outcome = await creating.then(
          (sandbox) => sandbox,
          () => null,
        );
        if (outcome === null) failedCreates += 1;
        else {
          stateRoots.push((outcome as RuncSandbox).paths.state);
          await outcome.destroy();
        }
        continue;
      }
      const sandbox = (await runcBackend.create({ memoryMiB: 64 })) as RuncSandbox;
      stateRoots.push(sandbox.paths.state);
      expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
      if (kind === 1) await sandbox.pause();
      if (kind === 2) process.kill(readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(sandbox.id))!.pid, 'SIGKILL');
      await sandbox.destroy();
    }
    expect(killedMidStart).toBe(10);
    // most kills must land before ready, or this tested nothing mid-start
    expect(failedCreates).toBeGreaterThanOrEqual(5);
    expect(await leftovers(stateRoots, runcBefore)).toEqual({ processes: [], runcListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] });
    expect(hostIdLocks()).toEqual([]);
  });

  it('leaves nothing when rigor itself is SIGKILLed holding a running and a paused sandbox', async () => {
    const runcBefore = runcPids();
    const holder = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = '';
      holder.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      holder.once('exit', (code) => reject(new Error(`the holder exited with ${code} before READY: ${out}`)));
    });
    expect(ready).toMatch(/^READY rigor-runc-\d+-\S+ rigor-runc-\d+-\S+/);
    const before = await leftovers([], runcBefore, holder.pid!);
    expect(before.processes.length).toBeGreaterThanOrEqual(4);
    expect(before.cgroupDirs.length).toBeGreaterThanOrEqual(6);
    holder.kill('SIGKILL');
    // the watchdog thaws the paused container and removes cgroups and temp dirs; give it up to 5 s
    let after = before;
    for (let waited = 0; waited < 5000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await leftovers([], runcBefore, holder.pid!);
      if (after.processes.length + after.cgroupDirs.length + after.tempDirs.length === 0) break;
    }
    expect(after).toEqual({ processes: [], runcListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] });
  });

  it('destroys a running sandbox without runc kill: its agent exits at the end of the channel and runc run deletes the container', async () => {
    const runcBefore = runcPids();
    const sandbox = (await runcBackend.create()) as RuncSandbox;
    const exited = (sandbox as unknown as { exited: Promise<string> }).exited;
    await sandbox.destroy();
    // a `runc kill KILL` would have ended the container's process by SIGKILL: runc run would exit 137
    expect(await exited).toBe('exited with code 0');
    expect(await leftovers([sandbox.paths.state], runcBefore)).toEqual({ processes: [], runcListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] });
  });

  it('kills a container whose agent does not exit at the end of its channel', async () => {
    const runcBefore = runcPids();
    const sandbox = (await runcBackend.create()) as RuncSandbox;
    const exited = (sandbox as unknown as { exited: Promise<string> }).exited;
    const [agent] = cgroupProcs(dirOf(sandbox.cgroups, 'pids')!);
    process.kill(agent!, 'SIGSTOP');
    await sandbox.destroy();
    expect(await exited).toBe('exited with code 137');
    expect(await leftovers([sandbox.paths.state], runcBefore)).toEqual({ processes: [], runcListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] });
  });

  it('pauses through the freezer cgroup as runc pause would: runc says paused, and runc delete --force removes the container', async () => {
    const runcBefore = runcPids();
    const sandbox = (await runcBackend.create()) as RuncSandbox;
    try {
      await sandbox.pause();
      const state = JSON.parse(String((await execa('runc', ['--root', sandbox.paths.state, 'state', sandbox.id])).stdout)) as { status: string };
      expect(state.status).toBe('paused');
      expect(await runc(sandbox.paths.state, ['delete', '--force', sandbox.id])).toEqual({ ok: true, stderr: '' });
      expect(await runcList(sandbox.paths.state)).toEqual([]);
    } finally {
      await sandbox.destroy();
    }
    expect(await leftovers([sandbox.paths.state], runcBefore)).toEqual({ processes: [], runcListEntries: [], cgroupDirs: [], mounts: [], tempDirs: [], tracked: [] });
  });

  it('shows the counting would see a live sandbox', async () => {
    const runcBefore = runcPids();
    const sandbox = (await runcBackend.create()) as RuncSandbox;
    try {
      const seen = await leftovers([sandbox.paths.state], runcBefore);
      expect(seen.processes.length).toBeGreaterThanOrEqual(2);
      expect(seen.runcListEntries).toEqual([sandbox.id]);
      expect(seen.cgroupDirs.length).toBeGreaterThanOrEqual(3);
      expect(seen.tempDirs).toEqual([sandbox.id]);
      expect(seen.tracked).toEqual([sandbox.id]);
      expect(hostIdLocks()).toHaveLength(1);
    } finally {
      await sandbox.destroy();
    }
  });
});
