/**
 * What a rigor SIGKILLed mid-run (holding a running and a paused container)
 * or mid-start (its `<engine> run` starting) leaves behind once the next
 * rigor has run: no container of it, no process in its containers' cgroups,
 * no cgroup, no overlay mount, and (docker) no private dockerd, containerd
 * or shim of its slot. The holder is a real rigor process (fixtures/). And
 * what 12 sandboxes of this process leave, destroyed running, paused, with
 * their CLI SIGKILLed when ready, or SIGKILLed mid-start: no container, no
 * process, no storage container, no image layer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupDirsFor } from '../../../../base/cgroups.ts';
import { readProcTable } from '../../../../base/proc-table.ts';
import { which } from '../../../../base/which.ts';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../../sandbox-core/backends/engines/backend.ts';
import { cliArgs, connectionEnv, plainConnection, type EngineConnection } from '../../../../sandbox-core/backends/engines/engine.ts';
import { reclaimDeadDockerdSlots } from '../../../../sandbox-core/backends/engines/private-dockerd.ts';
import { OWNER_LABEL } from '../../../../sandbox-core/backends/engines/run-args.ts';
import { sweepForgottenRuncState } from '../../../../sandbox-core/backends/engines/stale.ts';
import { podmanBackend, PODMAN_GLOBAL_ARGS } from '../../../../sandbox-core/backends/podman.ts';

const fixture = fileURLToPath(new URL('./fixtures/hold-sandboxes.ts', import.meta.url));
const root = process.getuid?.() === 0;
// Not available(): that would start this process's own private dockerd before the holder's slot is free.
const engines = [
  { backend: dockerBackend, runs: root && which('docker') !== null && which('dockerd') !== null },
  { backend: podmanBackend, runs: root && which('podman') !== null },
];

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The holder's engine connection as it printed it. */
function holderConnection(backend: EngineBackend, env: Record<string, string>): EngineConnection {
  return { ...plainConnection(backend.engine.cli), env, globalArgs: backend.engine.cli === 'podman' ? PODMAN_GLOBAL_ARGS : [] };
}

async function engine(connection: EngineConnection, args: string[]): Promise<string> {
  const result = await execa(connection.cli, cliArgs(connection, args), { env: connectionEnv(connection), extendEnv: false, reject: false });
  return String(result.stdout).trim();
}

/** Start the holder; resolves with its first JSON line. */
function startHolder(cli: string, mode: 'held' | 'mid-start'): { child: ChildProcess; line: Promise<{ ids?: string[]; env: Record<string, string> }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, cli, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = new Promise<{ ids?: string[]; env: Record<string, string> }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code} before it said anything: ${out}`)));
  });
  return { child, line };
}

/** Where a container lives on the host, read while it runs: its cgroup dirs and its root filesystem mount. */
async function footprint(connection: EngineConnection, id: string): Promise<{ cgroups: string[]; merged: string }> {
  const [pid, merged] = (await engine(connection, ['inspect', '--format', '{{.State.Pid}} {{.GraphDriver.Data.MergedDir}}', id])).split(' ');
  const cgroups = cgroupDirsFor('', read('/proc/self/mountinfo'), read(`/proc/${pid}/cgroup`)).map((entry) => entry.dir);
  return { cgroups, merged: merged! };
}

function waitForExit(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Live processes whose cgroup path or command line mentions one of `marks`. */
function processesMentioning(marks: string[]): string[] {
  return readProcTable()
    .filter((entry) => entry.state !== 'Z' && entry.pid !== process.pid)
    .filter((entry) => marks.some((mark) => read(`/proc/${entry.pid}/cgroup`).includes(mark) || read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ').includes(mark)))
    .map((entry) => `${entry.pid} ${read(`/proc/${entry.pid}/cmdline`).replaceAll('\0', ' ')}`);
}

/** The next rigor: one sandbox made (sweeping stale containers first) and destroyed. */
async function nextRun(backend: EngineBackend): Promise<EngineConnection> {
  const sandbox = await backend.create();
  await sandbox.destroy();
  return backend.connection();
}

/** Containers the engine's storage holds for this process (podman's --external lists those libpod forgot), and the layers under a private dockerd's data root. */
async function storageOf(backend: EngineBackend): Promise<{ containers: string[]; layers: number }> {
  const connection = await backend.connection();
  const external = backend.engine.cli === 'podman' ? ['--external'] : [];
  const containers = (await engine(connection, ['ps', '--all', ...external, '--format', '{{.Names}}'])).split('\n').filter((name) => name.startsWith(`${backend.engine.cli}-${process.pid}-`));
  const dataRoot = connection.env.DOCKER_HOST?.replace(/^unix:\/\/\/run\/rigor\/dockerd\/(\d+)\/sock$/, '/var/cache/rigor/dockerd/$1');
  const overlay = dataRoot ? readdirSync(dataRoot).map((dir) => join(dataRoot, dir, 'overlay2')).find((dir) => existsSync(dir)) : undefined;
  return { containers, layers: overlay ? readdirSync(overlay).length : 0 };
}

// The tests' next run is this process, whose private dockerd is already up and so takes no slot over: the
// slot of a holder killed after it started, this file reclaims as a next rigor process would at its start.
afterEach(() => {
  reclaimDeadDockerdSlots();
});

for (const { backend, runs } of engines) {
  const cli = backend.engine.cli;
  describe.skipIf(!runs)(`${cli} cleanup after a SIGKILLed rigor${runs ? '' : ' (skipped: needs root and the engine)'}`, () => {
    it('leaves no container, process, cgroup, mount or daemon of a rigor killed holding a running and a paused sandbox', async () => {
      const { child, line } = startHolder(cli, 'held');
      const { ids, env } = await line;
      const connection = holderConnection(backend, env);
      const footprints = await Promise.all(ids!.map((id) => footprint(connection, id)));
      const slotDir = env.DOCKER_HOST?.replace(/^unix:\/\//, '').replace(/\/sock$/, '');
      const marks = [...ids!, ...footprints.flatMap((print) => print.cgroups.map((dir) => dir.split('/').pop()!)), ...(slotDir ? [`${slotDir}/`] : [])];
      expect(processesMentioning(marks).length).toBeGreaterThanOrEqual(2);
      child.kill('SIGKILL');
      await waitForExit(child);
      const next = await nextRun(backend);
      // a private dockerd of the next run took the dead holder's slot over (the lowest free one)
      if (slotDir) expect(next.env.DOCKER_HOST).toBe(env.DOCKER_HOST);
      expect(await engine(next, ['ps', '--all', '--quiet', '--filter', `label=${OWNER_LABEL}=${child.pid}`])).toBe('');
      const mine = new Set(slotDir ? [String(readFileSync(`${slotDir}/dockerd.pid`, 'utf8')).trim()] : []);
      expect(processesMentioning(marks).filter((entry) => !mine.has(entry.split(' ')[0]!) && !entry.includes(' containerd --config'))).toEqual([]);
      expect(footprints.flatMap((print) => print.cgroups).filter((dir) => existsSync(dir))).toEqual([]);
      expect(read('/proc/self/mountinfo').split('\n').filter((mount) => footprints.some((print) => mount.includes(print.merged)))).toEqual([]);
    }, 180_000);

    it('leaves no container or process of a rigor killed while its container starts', async () => {
      const before = new Set(readProcTable().map((entry) => entry.pid));
      const { child, line } = startHolder(cli, 'mid-start');
      const { env } = await line;
      const prefix = `${cli}-${child.pid}-`;
      // the holder's `<engine> run` for the sandbox: kill the holder as soon as it exists
      for (let waited = 0; waited < 30_000 && processesMentioning([`--name ${prefix}`]).length === 0; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(processesMentioning([`--name ${prefix}`]).length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await waitForExit(child);
      const connection = holderConnection(backend, env);
      const made = (await engine(connection, ['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${OWNER_LABEL}=${child.pid}`])).split('\n').filter(Boolean);
      const next = await nextRun(backend);
      expect(await engine(next, ['ps', '--all', '--quiet', '--filter', `label=${OWNER_LABEL}=${child.pid}`])).toBe('');
      expect(processesMentioning([prefix, ...made]).filter((entry) => !before.has(Number(entry.split(' ')[0])))).toEqual([]);
      // nor a container the engine forgot but its runc still holds (a `runc init` waiting for a start): the next run swept it
      expect(await sweepForgottenRuncState(next)).toEqual([]);
    }, 180_000);

    it('leaves nothing of 12 sandboxes: destroyed running, paused, with the CLI SIGKILLed when ready, and SIGKILLed mid-start', async () => {
      await nextRun(backend); // the image imported and stale containers swept before counting
      const before = await storageOf(backend);
      // the count sees the image's layer where rigor runs its own dockerd
      if ((await backend.connection()).managed === 'private') expect(before.layers).toBeGreaterThan(0);
      const prefix = `${cli}-${process.pid}-`;
      let failedCreates = 0;
      for (let i = 0; i < 12; i++) {
        const kind = i % 4;
        if (kind === 3) {
          const creating = backend.create();
          let cliPid: number | undefined;
          for (let waited = 0; waited < 30_000 && cliPid === undefined; waited += 2) {
            cliPid = readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(`--name\0${prefix}`))?.pid;
            if (cliPid === undefined) await new Promise((resolve) => setTimeout(resolve, 2));
          }
          await new Promise((resolve) => setTimeout(resolve, (i * 37) % 150));
          process.kill(cliPid!, 'SIGKILL');
          const made = await creating.then((sandbox) => sandbox, () => null);
          if (made) await made.destroy();
          else failedCreates += 1;
          continue;
        }
        const sandbox = await backend.create();
        expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
        if (kind === 1) await sandbox.pause();
        if (kind === 2) process.kill(readProcTable().find((entry) => entry.ppid === process.pid && read(`/proc/${entry.pid}/cmdline`).includes(sandbox.id))!.pid, 'SIGKILL');
        await sandbox.destroy();
      }
      expect(failedCreates).toBeGreaterThan(0); // some kills landed before ready, or this tested nothing mid-start
      expect(await storageOf(backend)).toEqual(before);
      expect(await engine(await backend.connection(), ['ps', '--all', '--quiet', '--filter', `label=${OWNER_LABEL}=${process.pid}`])).toBe('');
      expect(processesMentioning([prefix])).toEqual([]);
    }, 300_000);
  });
}
