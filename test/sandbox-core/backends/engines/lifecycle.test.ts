/**
 * A real container through each engine on this host, under runc and under
 * runsc: create → exec → files → pause/resume → stats → destroy, the
 * lockdown checked from inside, and what the artifact is told (facts.engine,
 * isolation). With no engine answering, a root rigor starts its private
 * dockerd; an engine that cannot run here is skipped with the probe's reason.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../../sandbox-core/backends/engines/backend.ts';
import { cliArgs, connectionEnv } from '../../../../sandbox-core/backends/engines/engine.ts';
import type { EngineFacts } from '../../../../sandbox-core/backends/engines/facts.ts';
import type { EngineSandbox } from '../../../../sandbox-core/backends/engines/sandbox.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';

const engines: Array<{ backend: EngineBackend; skip: string }> = [];
for (const base of [dockerBackend, podmanBackend]) {
  for (const runtime of ['runc', 'runsc']) {
    const backend = base.variant({ runtime }) as EngineBackend;
    const availability = await backend.available();
    engines.push({ backend, skip: availability.ok ? '' : availability.reason });
  }
}

/** The ids of containers named `name`, through the backend's own connection. */
async function containersNamed(backend: EngineBackend, name: string): Promise<string> {
  const connection = await backend.connection();
  const args = cliArgs(connection, ['ps', '--all', '--quiet', '--filter', `name=^${name}$`]);
  return (await execa(connection.cli, args, { env: connectionEnv(connection), extendEnv: false })).stdout.trim();
}

for (const { backend, skip } of engines) {
  const cli = backend.engine.cli;
  const runtime = backend.runtime;
  describe.skipIf(skip !== '')(`${cli} (${runtime}) sandbox lifecycle${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let sandbox: EngineSandbox;
    beforeAll(async () => {
      sandbox = (await backend.create({ env: { GREETING: 'from-spec' }, memoryMiB: 64 })) as EngineSandbox;
    }, 120_000);
    afterAll(async () => {
      await sandbox?.destroy();
    });

    it('records launched < connected <= ready and the agent start on the guest clock', () => {
      const { launched, connected, ready } = sandbox.phases;
      expect(connected).toBeGreaterThan(launched!);
      expect(ready).toBeGreaterThanOrEqual(connected!);
      expect(sandbox.bootStages.map((stage) => stage.name)).toContain('agent_start');
    });

    it('runs commands through the agent, pid 1 of the container, as uid 1000 with the spec env', async () => {
      expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
      expect((await sandbox.exec({ argv: ['cat', '/proc/1/comm'] })).stdout.toString()).toBe('rigor-agent\n');
      expect((await sandbox.exec({ argv: ['id', '-u'] })).stdout.toString()).toBe('1000\n');
      expect((await sandbox.exec({ argv: ['sh', '-c', 'echo $GREETING'] })).stdout.toString()).toBe('from-spec\n');
    });

    it('writes the workspace, a tmpfs of its own, and nothing else', async () => {
      await sandbox.writeFile('/workspace/note.txt', 'from the host');
      expect((await sandbox.readFile('/workspace/note.txt')).toString()).toBe('from the host');
      expect((await sandbox.exec({ argv: ['sh', '-c', 'echo x > /workspace/own && cat /workspace/own'] })).stdout.toString()).toBe('x\n');
      const mounts = (await sandbox.exec({ argv: ['cat', '/proc/mounts'] })).stdout.toString();
      expect(mounts).toMatch(/^\S+ \/workspace tmpfs /m);
      const root = await sandbox.exec({ argv: ['sh', '-c', 'echo x > /etc/escape'] });
      expect(root.exitCode).not.toBe(0);
    });

    it('holds no capability, no network but loopback and no host process', async () => {
      const status = (await sandbox.exec({ argv: ['cat', '/proc/self/status'] })).stdout.toString();
      expect(status).toMatch(/^CapEff:\s+0000000000000000$/m);
      const devices = (await sandbox.exec({ argv: ['cat', '/proc/net/dev'] })).stdout.toString();
      expect(devices.split('\n').slice(2).filter(Boolean).map((line) => line.split(':')[0]!.trim())).toEqual(['lo']);
      const pids = (await sandbox.exec({ argv: ['sh', '-c', 'ls -d /proc/[0-9]* | wc -l'] })).stdout.toString();
      expect(Number(pids)).toBeLessThan(10);
    });

    it('holds an exec while paused and answers it after resume', async () => {
      await sandbox.pause();
      let answered = false;
      const pending = sandbox.exec({ argv: ['echo', 'after'] }).then((result) => ((answered = true), result));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(false);
      await sandbox.resume();
      expect((await pending).stdout.toString()).toBe('after\n');
    });

    it('reports PSS of the CLI, the per-container monitor and the cgroup, the daemons apart', async () => {
      const stats = await sandbox.stats();
      expect(stats.memory.kind).toBe('pss');
      expect(stats.memory.method).toMatch(new RegExp(`over the ${cli} CLI, the container's (containerd-shim|conmon) and its pids cgroup`));
      expect(stats.memory.bytes).toBeGreaterThan(0);
      expect(stats.processes).toBeGreaterThanOrEqual(3);
      expect(stats.limits).toEqual({ oomKills: 0, forksRefused: 0 });
      const facts = sandbox.facts.engine as EngineFacts;
      if (facts.managed === 'private') expect(stats.shared).toMatchObject({ kind: 'pss', what: 'dockerd, containerd', processes: 2 });
    });

    it('tells the artifact which engine ran and how, and that no command runs as host root', () => {
      const facts = sandbox.facts.engine as EngineFacts;
      expect(facts).toMatchObject({ cli, runtime });
      expect(facts.server_version).toMatch(/^\d+\.\d+/);
      if (facts.managed === 'private' || cli === 'podman') expect(facts.cgroup_driver).toBe('cgroupfs');
      expect(facts.storage_driver).toMatch(/overlay/);
      if (runtime === 'runsc') expect(facts.platform).toBe('ptrace');
      if (cli === 'podman') expect(facts.flags).toEqual(expect.arrayContaining(['--cgroup-manager', 'cgroupfs', '--events-backend', 'file', 'nproc=1024:1024']));
      if (facts.managed === 'private') expect(facts).toMatchObject({ userns: 'remap', flags: expect.arrayContaining(['--userns-remap', '--bridge=none']) });
      const isolation = sandbox.isolation!;
      expect(isolation.commandUid).toBe(1000);
      expect(isolation.limits).toEqual({ pids: 1024, memoryMiB: 64, workspaceMiB: 1024 });
      if (runtime === 'runsc') expect(isolation).toMatchObject({ commandHostUid: 'guest', seccomp: "rigor-default-v1, applied by gVisor's Sentry" });
      else expect(isolation).toMatchObject({ seccomp: 'rigor-default-v1', commandHostUid: expect.any(Number) });
      if (facts.userns !== 'host') expect(isolation.commandHostUid).not.toBe(0);
    });

    it('leaves no container after destroy, even when destroyed paused; a second destroy is a no-op', async () => {
      const other = (await backend.create()) as EngineSandbox;
      await other.pause();
      await other.destroy();
      await other.destroy();
      expect(await containersNamed(backend, other.id)).toBe('');
    });
  });
}
