/**
 * A real container through each engine that answers on this host: create →
 * exec → files → pause/resume → stats → destroy, and the lockdown checked
 * from inside. Skipped, with the probe's reason, where the engine is absent
 * (the machine this was written on has neither, so this has not run there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../../sandbox-core/backends/engines/backend.ts';
import type { EngineSandbox } from '../../../../sandbox-core/backends/engines/sandbox.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';

const engines: Array<{ backend: EngineBackend; skip: string }> = [];
for (const backend of [dockerBackend, podmanBackend]) {
  const availability = await backend.available();
  engines.push({ backend, skip: availability.ok ? '' : availability.reason });
}

async function containersNamed(cli: string, name: string): Promise<string> {
  return (await execa(cli, ['ps', '--all', '--quiet', '--filter', `name=^${name}$`])).stdout.trim();
}

for (const { backend, skip } of engines) {
  const cli = backend.engine.cli;
  describe.skipIf(skip !== '')(`${cli} sandbox lifecycle${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let sandbox: EngineSandbox;
    let workspace: string;
    beforeAll(async () => {
      sandbox = (await backend.create({ env: { GREETING: 'from-spec' }, memoryMiB: 64 })) as EngineSandbox;
      workspace = [...sandbox.resources.tempDirs][0]!;
    });
    afterAll(async () => {
      await sandbox?.destroy();
    });

    it('records launched < connected <= ready and the agent start on the guest clock', () => {
      const { launched, connected, ready } = sandbox.phases;
      expect(connected).toBeGreaterThan(launched!);
      expect(ready).toBeGreaterThanOrEqual(connected!);
      expect(sandbox.bootStages.map((stage) => stage.name)).toContain('agent_start');
    });

    it('runs commands through the agent, pid 1 of the container, with the spec env', async () => {
      expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
      expect((await sandbox.exec({ argv: ['cat', '/proc/1/comm'] })).stdout.toString()).toBe('rigor-agent\n');
      expect((await sandbox.exec({ argv: ['sh', '-c', 'echo $GREETING'] })).stdout.toString()).toBe('from-spec\n');
    });

    it('writes the workspace, which is the host dir, and nothing else', async () => {
      await sandbox.writeFile('/workspace/note.txt', 'from the host');
      expect(readFileSync(join(workspace, 'note.txt'), 'utf8')).toBe('from the host');
      expect((await sandbox.readFile('/workspace/note.txt')).toString()).toBe('from the host');
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

    it("reports the engine's memory figure for the container", async () => {
      const stats = await sandbox.stats();
      expect(stats.memory.method).toMatch(new RegExp(`^${cli} stats`));
      expect(stats.memory.bytes).toBeGreaterThan(0);
      expect(stats.processes).toBeGreaterThanOrEqual(1);
    });

    it('leaves no container and no workspace after destroy, even when destroyed paused; a second destroy is a no-op', async () => {
      const other = (await backend.create()) as EngineSandbox;
      const otherWorkspace = [...other.resources.tempDirs][0]!;
      await other.pause();
      await other.destroy();
      await other.destroy();
      expect(await containersNamed(cli, other.id)).toBe('');
      expect(existsSync(otherWorkspace)).toBe(false);
    });
  });
}
